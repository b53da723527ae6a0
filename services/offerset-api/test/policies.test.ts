import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { randomUUID } from 'node:crypto';
import { acceptExecution, findExecutionRow, ownerUsage } from '@eb/db';
import { StepQueues, redisConnection } from '@eb/core';
import { noAuth, quietLogger, readRequest, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { storeOfferSet } from '@eb/tests/support/offers.js';
import { createApp } from '../src/app.js';
import { buildRequestTree } from '../src/offers/request-tree.js';
import { ImageAllowlistPolicy } from '../src/policies/image-allowlist.js';
import { UserQuotaPolicy } from '../src/policies/user-quota.js';
import { MaxDurationPolicy } from '../src/policies/max-duration.js';
import type { OffersetApiConfig } from '../src/config.js';

const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
let app: Express;
let platform: string;

beforeAll(async () => {
  const p = await testPlatform(db.db);
  platform = p.name;
  const config = {
    platform: { ...p, type: 'simulated', prepareMs: 1000, releaseMs: 1000 },
    offers: { platform: p.name, offerTtlMs: 300_000, prepareMs: 1000, releaseMs: 1000, maxOffers: 2, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 100 },
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 },
  } as OffersetApiConfig;
  app = createApp({
    db: db.db, queues, config, logger: quietLogger, auth: noAuth,
    policies: [
      new ImageAllowlistPolicy(['ghcr.io/zarquan/*', 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']),
      new MaxDurationPolicy(2 * 3_600_000),
    ],
  });
});

afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await db.close();
});

const defaults = { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 };
const offerSet = async (req: unknown) => (await request(app).post('/offersets').set('Prefer', 'return=representation').send(req as object)).body;

describe('policies through the API', () => {
  test('image allowlist: listed locations and digests pass, others are refused naming the policy', async () => {
    const ok = await readRequest('execution-request-docker-minimal.json');
    expect((await offerSet(ok)).result).toBe('YES');
    const other = await readRequest('execution-request-docker-minimal.json');
    other.executable.image.locations = ['docker.io/library/evil:latest'];
    const refused = await offerSet(other);
    expect(refused.result).toBe('NO');
    expect(refused.meta.messages[0]).toMatchObject({ kind: 'urn:policy-refusal', values: { policy: 'image-allowlist', image: 'docker.io/library/evil:latest' } });
    other.executable.image.digest = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    expect((await offerSet(other)).result).toBe('YES');
  });

  test('maximum duration refuses longer requests', async () => {
    const req = await readRequest('execution-request-docker-minimal.json');
    req.schedule = { requested: { duration: 'PT3H' } };
    const refused = await offerSet(req);
    expect(refused.result).toBe('NO');
    expect(refused.meta.messages[0].values).toMatchObject({ policy: 'max-duration', duration: 'PT3H', max: 'PT2H' });
    req.schedule.requested.duration = 'PT2H';
    expect((await offerSet(req)).result).toBe('YES');
  });

  test('a start beyond the booking horizon is answered NO', async () => {
    const req = await readRequest('execution-request-docker-compute-schedule.json');
    req.executable.image.digest = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const res = await offerSet(req); // asks for 2030
    expect(res.result).toBe('NO');
    expect(res.meta.messages[0].kind).toBe('urn:no-slot');
  });
});

describe('user quota', () => {
  test('counts what the owner holds in accepted, unfinished executions; refuses over it, narrows under it', async () => {
    const owner = `user-${randomUUID()}`;
    const set = await storeOfferSet(db.db, platform, [{ cores: 3, memoryGib: 4 }, { cores: 5 }], 300_000, owner);
    expect(await ownerUsage(db.db, owner)).toEqual({ cores: 0, memoryGib: 0 });
    await acceptExecution(db.db, set.offers[0]!.uuid);
    expect(await ownerUsage(db.db, owner)).toEqual({ cores: 3, memoryGib: 4 });

    const policy = new UserQuotaPolicy(4, 8);
    const ctx = { owner, usage: () => ownerUsage(db.db, owner) };
    const tooMany = buildRequestTree({ compute: { kind: 'k', cores: { min: 2, max: 2 } } } as never, defaults);
    const refused = await policy.check(tooMany, ctx);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ kind: 'urn:policy-refusal', values: { policy: 'user-quota', resource: 'cores', used: '3', limit: '4' } });
    const ranged = buildRequestTree({ compute: { kind: 'k', cores: { min: 1, max: 8 }, memory: { min: 1, max: 8 } } } as never, defaults);
    expect(await policy.check(ranged, ctx)).toEqual([]);
    expect(ranged.cores.max).toBe(1);
    expect(ranged.memoryGib.max).toBe(4);
  });

  test('is enforced again at acceptance: two offers within the quota cannot both be accepted past it', async () => {
    const owner = `user-${randomUUID()}`;
    const first = await storeOfferSet(db.db, platform, [{ cores: 3 }], 300_000, owner);
    const second = await storeOfferSet(db.db, platform, [{ cores: 2 }], 300_000, owner);
    expect((await acceptExecution(db.db, first.offers[0]!.uuid, { cores: 4 })).outcome).toBe('accepted');
    const refused = await acceptExecution(db.db, second.offers[0]!.uuid, { cores: 4 });
    expect(refused).toMatchObject({ outcome: 'over-quota', detail: expect.stringContaining('user-quota') });
    expect((await findExecutionRow(db.db, second.offers[0]!.uuid))?.phase).toBe('OFFERED');
  });
});
