import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { acceptExecution, findExecution } from '@eb/db';
import { createStepQueue, redisConnection, wakeExecution } from '@eb/core';
import { databaseUrl, freePort, redisUrl, testDatabase, testPlatform, until } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { storeOfferSet } from '../support/offers.js';

// PostgreSQL is the source of truth: losing a worker or all of Redis mid-flight loses no step and
// applies none twice.
const db = testDatabase(4);
const running: Service[] = [];
let platform: string;
const EXPECTED = ['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED'];

beforeAll(async () => { platform = (await testPlatform(db.db, { cores: 1000, memoryGib: 1000 })).name; });
afterEach(async () => { for (const s of running.splice(0)) await stopService(s, 'SIGKILL'); });
afterAll(async () => { await db.close(); });

const workerEnv = (redis: string, prefix: string) => ({
  DATABASE_URL: databaseUrl(), REDIS_URL: redis, EB_QUEUE_PREFIX: prefix, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform,
  // Long enough that all eight are PREPARING together even on a busy machine (the kill must find them there).
  EB_SIM_PREPARE: '5000', EB_SIM_RUN: '300', EB_SIM_RELEASE: '100', EB_POLL_MIN: '50', EB_POLL_MAX: '300',
  EB_RECONCILE_EVERY: '500', EB_LOCK_DURATION: '2000', EB_STALLED_INTERVAL: '1000', EB_PREPARE_GRACE: 'PT60S',
});

async function acceptMany(n: number, redis: string, prefix: string): Promise<string[]> {
  const conn = redisConnection(redis);
  const queue = createStepQueue(conn, platform, prefix);
  const uuids: string[] = [];
  for (let i = 0; i < n; i++) {
    const set = await storeOfferSet(db.db, platform, [{ prepareMs: 1000, durationMs: 60_000 }]);
    const uuid = set.offers[0]!.uuid;
    await acceptExecution(db.db, uuid);
    await wakeExecution(queue, uuid);
    uuids.push(uuid);
  }
  await queue.close();
  conn.disconnect();
  return uuids;
}

async function phasesOf(uuid: string): Promise<string[]> {
  const r = (await findExecution(db.db, uuid))!;
  return r.history.filter((h) => h.component_uuid === null).map((h) => h.phase);
}

const allIn = (uuids: string[], phases: string[]) => until(async () => {
  for (const u of uuids) if (!phases.includes((await findExecution(db.db, u))!.execution.phase)) return false;
  return true;
}, 60_000, 200);

describe('recovery', () => {
  test('a worker killed with SIGKILL during PREPARING is replaced and every execution completes once', async () => {
    const prefix = `kill-${randomUUID().slice(0, 8)}`;
    const env = workerEnv(redisUrl(), prefix);
    const first = await startService('platform-worker', await freePort(), env);
    running.push(first);
    const uuids = await acceptMany(8, redisUrl(), prefix);
    await allIn(uuids, ['PREPARING']);
    await stopService(first, 'SIGKILL');
    running.splice(running.indexOf(first), 1);
    running.push(await startService('platform-worker', await freePort(), env));
    await allIn(uuids, ['COMPLETED', 'FAILED', 'CANCELLED']);
    for (const u of uuids) expect(await phasesOf(u)).toEqual(EXPECTED);
  }, 90_000);

  test('Redis restarted with an empty dataset: the reconciler re-enqueues from PostgreSQL', async () => {
    const port = await freePort();
    const startRedis = (): ChildProcess => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    let redis = startRedis();
    const url = `redis://127.0.0.1:${port}`;
    try {
      await until(async () => {
        const c = redisConnection(url);
        const ok = await c.ping().then(() => true, () => false);
        c.disconnect();
        return ok;
      }, 10_000);
      const prefix = `flush-${randomUUID().slice(0, 8)}`;
      running.push(await startService('platform-worker', await freePort(), workerEnv(url, prefix)));
      const uuids = await acceptMany(8, url, prefix);
      await until(async () => {
        for (const u of uuids) if ((await findExecution(db.db, u))!.execution.phase === 'PREPARING') return true;
        return false;
      }, 20_000, 50);
      // Every queued job, delayed poll and lock goes with it.
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      redis = startRedis();
      await allIn(uuids, ['COMPLETED', 'FAILED', 'CANCELLED']);
      for (const u of uuids) expect(await phasesOf(u)).toEqual(EXPECTED);
    } finally {
      redis.kill('SIGKILL');
    }
  }, 90_000);
});
