import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { acceptExecution, findExecution, migrationProvider } from '@eb/db';
import { createStepQueue, redisConnection, wakeExecution } from '@eb/core';
import { databaseUrl, freePort, redisUrl, testDatabase, testPlatform, until } from '../support/env.js';
import { startService, stopService } from '../support/processes.js';
import { storeOfferSet } from '../support/offers.js';
import { writeStaticTokens } from '../support/auth.js';

// Operating the broker: graceful shutdown of APIs and workers, migrations from many replicas, metrics.
const db = testDatabase(4);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const TOKEN = `ops-${randomUUID()}`;
let platform: string;
const base = () => ({
  DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform,
  EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'ops-user' } }),
});

beforeAll(async () => { platform = (await testPlatform(db.db, { cores: 500, memoryGib: 500 })).name; });
afterAll(async () => { await db.close(); });

describe('graceful shutdown', () => {
  test('on SIGTERM the execution API finishes the request in flight (a long-poll), refuses new ones, and exits 0', async () => {
    const api = await startService('execution-api', await freePort(), { ...base(), EB_QUEUE_PREFIX: `ops-${randomUUID().slice(0, 8)}` });
    const set = await storeOfferSet(db.db, platform, [{}], 300_000, 'ops-user');
    const inFlight = fetch(`${api.url}/executions/${set.offers[0]!.uuid}`, { headers: { Authorization: `Bearer ${TOKEN}`, Prefer: 'wait=2' } });
    await new Promise((r) => setTimeout(r, 300));
    const exited = stopService(api, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { phase: string }).phase).toBe('OFFERED');
    expect(await exited).toBe(0);
  }, 30_000);

  test('on SIGTERM a worker hands back its steps (BullMQ close) and another finishes them, none lost or repeated', async () => {
    const prefix = `ops-${randomUUID().slice(0, 8)}`;
    const env = { ...base(), EB_QUEUE_PREFIX: prefix, EB_SIM_PREPARE: '1500', EB_SIM_RUN: '200', EB_SIM_RELEASE: '100', EB_POLL_MIN: '50', EB_POLL_MAX: '300' };
    const first = await startService('platform-worker', await freePort(), env);
    const conn = redisConnection(redisUrl());
    const queue = createStepQueue(conn, platform, prefix);
    const uuids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const set = await storeOfferSet(db.db, platform, [{}]);
      await acceptExecution(db.db, set.offers[0]!.uuid);
      await wakeExecution(queue, set.offers[0]!.uuid);
      uuids.push(set.offers[0]!.uuid);
    }
    await until(async () => {
      for (const u of uuids) if ((await findExecution(db.db, u))!.execution.phase !== 'PREPARING') return false;
      return true;
    }, 20_000, 100);
    const started = Date.now();
    expect(await stopService(first, 'SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const second = await startService('platform-worker', await freePort(), env);
    try {
      await until(async () => {
        for (const u of uuids) if ((await findExecution(db.db, u))!.execution.phase !== 'COMPLETED') return false;
        return true;
      }, 30_000, 200);
      for (const u of uuids) {
        const phases = (await findExecution(db.db, u))!.history.filter((h) => h.component_uuid === null).map((h) => h.phase);
        expect(phases).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
      }
    } finally {
      await stopService(second);
      await queue.close();
      conn.disconnect();
    }
  }, 60_000);
});

describe('migrations', () => {
  test('five replicas migrating a new database at once apply each migration exactly once', async () => {
    const name = `eb_mig_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = databaseUrl().replace(/\/[^/]+$/, `/${name}`);
    try {
      const codes = await Promise.all(Array.from({ length: 5 }, () => new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [`${root}packages/db/dist/src/migrate-cli.js`], { env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
        child.on('exit', resolve);
      })));
      expect(codes).toEqual([0, 0, 0, 0, 0]);
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const { rows } = await check.query<{ name: string; n: number }>('select name, count(*)::int as n from kysely_migration group by name order by name');
      await check.end();
      expect(rows.map((r) => r.name)).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
      expect(rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }, 60_000);
});

describe('metrics', () => {
  test('every service serves Prometheus metrics: HTTP latency, offers, executions per phase, queue depth', async () => {
    const prefix = `ops-${randomUUID().slice(0, 8)}`;
    const env = { ...base(), EB_QUEUE_PREFIX: prefix };
    const [os, ex, wk] = await Promise.all([
      startService('offerset-api', await freePort(), env), startService('execution-api', await freePort(), env), startService('platform-worker', await freePort(), env),
    ]);
    try {
      await fetch(`${os.url}/offersets`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ executable: { kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/docker-container.yaml', image: { locations: ['x'], digest: `sha256:${'1'.repeat(64)}` } } }) });
      const text = async (s: { url: string }) => (await fetch(`${s.url}/metrics`)).text();
      const offerMetrics = await text(os);
      expect(offerMetrics).toMatch(/eb_offersets_total\{result="YES",service="offerset-api"\} 1/);
      expect(offerMetrics).toMatch(/eb_offers_made_total\{service="offerset-api"\} \d+/);
      expect(offerMetrics).toMatch(/eb_http_request_duration_seconds_bucket\{.*route="\/offersets"/);
      expect(await text(ex)).toMatch(/eb_http_request_duration_seconds/);
      const workerMetrics = await text(wk);
      expect(workerMetrics).toMatch(/eb_executions\{phase="OFFERED",service="platform-worker"\} \d+/);
      expect(workerMetrics).toMatch(/eb_queue_jobs\{state="waiting",service="platform-worker"\} 0/);
      expect(workerMetrics).toMatch(/process_resident_memory_bytes/);
    } finally {
      for (const s of [os, ex, wk]) await stopService(s);
    }
  }, 60_000);
});
