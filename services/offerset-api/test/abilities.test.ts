import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import { StepQueues, redisConnection, type PlatformConfig } from '@eb/core';
import { declarePlatformAbilities, findExecutionRow, type PlatformAbilities, type PlatformCapacity } from '@eb/db';
import { SIMULATED_ABILITIES, noAuth, quietLogger, readRequest, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { createApp } from '../src/app.js';
import type { OffersetApiConfig } from '../src/config.js';

// The offer-set API offers what the platform's row says its workers can do: no list of its own.
const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
const DOCKER_LIKE: PlatformAbilities = { executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout', 'stderr'], labels: 'docker', sources: [], mounts: true };
let platform: PlatformCapacity;
let app: Express;

beforeAll(async () => {
  platform = await testPlatform(db.db, { cores: 8, memoryGib: 16 }, null);
  const config: OffersetApiConfig = {
    port: 0, host: '127.0.0.1', databaseUrl: '', redisUrl: '', abilitiesTtlMs: 0,
    platform: { ...platform, type: 'docker', prepareMs: 30_000, releaseMs: 10_000 } satisfies PlatformConfig,
    offers: { platform: platform.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers: 2, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 200 },
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 1 },
  };
  app = createApp({ db: db.db, queues, config, logger: quietLogger, auth: noAuth });
});

afterAll(async () => {
  await queues.for(platform.name).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
  await db.close();
});

type Msg = { kind: string; message: string; values: Record<string, string> };
async function ask(change: (r: Record<string, any>) => void = () => undefined) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const req = await readRequest('execution-request-docker-minimal.json');
  change(req);
  const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
  expect(res.status).toBe(200);
  return { result: res.body.result as string, offers: res.body.offers as { meta: { uuid: string } }[], messages: (res.body.meta.messages ?? []) as Msg[] };
}

const singularity = (r: Record<string, unknown>) => {
  r.executable = { kind: Kinds.singularityContainer, location: 'https://images.example.org/tool.sif' };
};

describe('abilities from the platform row', () => {
  test('until a worker declares the platform, the API is not ready and the answer is NO urn:platform-unavailable', async () => {
    expect((await request(app).get('/readyz')).status).toBe(503);
    const set = await ask();
    expect(set.result).toBe('NO');
    expect(set.messages).toEqual([expect.objectContaining({ kind: 'urn:platform-unavailable', values: { platform: platform.name } })]);
  });

  test('what the row says is what is offered, and changes with it', async () => {
    await declarePlatformAbilities(db.db, platform, { ...DOCKER_LIKE, executableKinds: [] });
    expect((await request(app).get('/readyz')).status).toBe(200);
    const refused = await ask();
    expect(refused.result).toBe('NO');
    expect(refused.messages[0]).toMatchObject({ kind: 'urn:not-supported', values: { path: 'executable', kind: Kinds.dockerContainer } });
    await declarePlatformAbilities(db.db, platform, { ...DOCKER_LIKE, outputs: ['stdout'] });
    const offered = await ask();
    expect(offered.result).toBe('YES');
    // The connectors the offers promise are the outputs the row declares.
    expect((await findExecutionRow(db.db, offered.offers[0]!.meta.uuid))!.outputs).toEqual(['stdout']);
  });

  test('SingularityContainer: NO naming the platforms that can run it', async () => {
    await declarePlatformAbilities(db.db, platform, DOCKER_LIKE);
    const alone = await ask(singularity);
    expect(alone.result).toBe('NO');
    const m = alone.messages.find((x) => x.kind === 'urn:not-supported')!;
    expect(m.values).toMatchObject({ path: 'executable', kind: Kinds.singularityContainer, platform: platform.name });
    // Other platforms in this database may run it (the tests' simulated ones do): they are named.
    const able = await testPlatform(db.db, {}, SIMULATED_ABILITIES);
    const named = (await ask(singularity)).messages.find((x) => x.kind === 'urn:not-supported')!;
    expect(named.message).toMatch(/platforms that can: .*\b/);
    expect(named.values.others).toContain(able.name);
    expect(named.values.others).not.toContain(platform.name);
  });

  test('data kinds the row does not list: NO naming the data item', async () => {
    await declarePlatformAbilities(db.db, platform, DOCKER_LIKE);
    const set = await ask((r) => {
      r.data = [{ kind: Kinds.rucioData, meta: { name: 'in' }, rucio: { scope: 'user.x', object: 'f.fits' } }];
    });
    expect(set.result).toBe('NO');
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:not-supported', values: expect.objectContaining({ path: 'data[0]', kind: Kinds.rucioData }) }));
  });
});
