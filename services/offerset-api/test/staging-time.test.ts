import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { Kinds, parseDuration } from '@eb/schema';
import { recordTransfer, type PlatformAbilities } from '@eb/db';
import { SIMULATED_ABILITIES, readRequest, uniquePrefix } from '@eb/tests/support/env.js';
import { startDockerLikeApp, type DockerLikeApp } from './docker-like-app.js';

// Offers reflect staging time: a data source's configured rate, then what its past downloads showed,
// set the preparation before the booked start.
const MiB = 2 ** 20;
const suffix = uniquePrefix();
let t: DockerLikeApp;
let app: Express;

const ABILITIES: PlatformAbilities = {
  ...SIMULATED_ABILITIES,
  sources: [
    { kind: 'skao', name: `dm-${suffix}`, endpoint: 'https://dm.srcnet.example.org/api/v1', bytesPerSecond: MiB, setupMs: 2000 },
    { kind: 'http', name: `mirror-${suffix}`, hosts: [`${suffix}.data.example.org`], setupMs: 5000 },
  ],
};

beforeAll(async () => {
  t = await startDockerLikeApp({ cores: 8, memoryGib: 16, storageGib: 10_000 }, ABILITIES, { dataStorageGib: 1000, staging: { bytesPerSecond: 20 * MiB, setupMs: 1000 } });
  app = t.app;
});

afterAll(() => t.close());

/** The preparation the first offer allows, and how far ahead of now it starts being available, in ms. */
async function preparation(data: Record<string, unknown>[]): Promise<{ prepareMs: number; availableIn: number }> {
  const req = await readRequest('execution-request-docker-minimal.json');
  req.data = data.map((d, i) => ({ meta: { name: `d${i}` }, ...d }));
  const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
  expect(res.body.result).toBe('YES');
  const schedule = res.body.offers[0].schedule;
  return { prepareMs: parseDuration(schedule.preparing.duration)!, availableIn: Date.parse(schedule.available.start.split('/')[0]) - Date.now() };
}

const skao = (datasize: number) => ({ kind: Kinds.skaoData, skao: { namespace: 'testing', objectname: 'cube.fits', datasize } });
const plain = (path: string) => ({ kind: Kinds.simpleData, location: `https://${suffix}.data.example.org/${path}` });
const elsewhere = (path: string) => ({ kind: Kinds.simpleData, location: `https://${suffix}.elsewhere.example.org/${path}` });

describe('preparation time from the data', () => {
  test('no data: the platform\'s estimate alone', async () => {
    expect((await preparation([])).prepareMs).toBe(30_000);
  });

  test('a large SKAO product at the configured rate moves the start later: 600 MiB at 1 MiB/s after 2 s', async () => {
    const { prepareMs, availableIn } = await preparation([skao(600 * MiB)]);
    expect(prepareMs).toBe(30_000 + 2000 + 600_000);
    expect(availableIn).toBeGreaterThan(600_000);
    // Two products are staged one after the other.
    expect((await preparation([skao(600 * MiB), skao(60 * MiB)])).prepareMs).toBe(30_000 + 2000 + 600_000 + 2000 + 60_000);
  });

  test('once downloads are recorded, their rate replaces the configured one', async () => {
    // 400 MiB in 100 s, 100 MiB in 25 s: 4 MiB/s.
    await recordTransfer(t.db.db, `dm-${suffix}`, 400 * MiB, 100_000);
    await recordTransfer(t.db.db, `dm-${suffix}`, 100 * MiB, 25_000);
    expect((await preparation([skao(600 * MiB)])).prepareMs).toBe(30_000 + 2000 + 150_000);
  });

  test('data of unknown size: the configured setup time, then the median of what the source\'s downloads took', async () => {
    expect((await preparation([plain('a.fits')])).prepareMs).toBe(30_000 + 5000);
    for (const ms of [40_000, 50_000, 90_000]) await recordTransfer(t.db.db, `mirror-${suffix}`, 10 * MiB, ms);
    expect((await preparation([plain('b.fits')])).prepareMs).toBe(30_000 + 50_000);
    // A host no source names is its own source, learned the same way.
    expect((await preparation([elsewhere('c.fits')])).prepareMs).toBe(30_000);
    await recordTransfer(t.db.db, `http:${suffix}.elsewhere.example.org`, MiB, 12_000);
    expect((await preparation([elsewhere('c.fits')])).prepareMs).toBe(30_000 + 12_000);
  });

  test('a DataLink row\'s content_length at the default rate: 200 MiB at 20 MiB/s after 1 s', async () => {
    const row = { kind: Kinds.ivoaData, ivoa: { datalink: { access_url: `https://${suffix}.archive.example.org/cube.fits`, semantics: '#this', content_length: 200 * MiB } } };
    expect((await preparation([row])).prepareMs).toBe(30_000 + 1000 + 10_000);
  });
});
