import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { acceptExecution } from '@eb/db';
import { databaseUrl, freePort, redisUrl, testDatabase, testPlatform, until } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';
import { storeOfferSet } from '../support/offers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// The execution API keeps answering through a database outage and a flood of long-polls.
const ALICE = `alice-${randomUUID()}`;
const BOB = `bob-${randomUUID()}`;
const db = testDatabase();
let proxy: TcpProxy;
let api: Service;
let platform: string;

beforeAll(async () => {
  const direct = new URL(databaseUrl());
  proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
  const viaProxy = new URL(databaseUrl());
  viaProxy.port = String(await proxy.start());
  platform = (await testPlatform(db.db)).name;
  api = await startService('execution-api', await freePort(), {
    DATABASE_URL: viaProxy.toString(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `live-${randomUUID().slice(0, 8)}`,
    EB_STATIC_TOKENS_FILE: writeStaticTokens({ [ALICE]: { subject: 'alice' }, [BOB]: { subject: 'bob' } }),
    EB_LONG_POLLS_PER_OWNER: '4', EB_MIGRATE_ON_START: 'false',
  });
}, 60_000);

afterAll(async () => {
  await stopService(api);
  await proxy.stop();
  await db.close();
});

const offerOf = async (owner: string) => (await storeOfferSet(db.db, platform, [{}], 300_000, owner)).offers[0]!.uuid;
const get = (uuid: string, token: string, wait?: number, signal?: AbortSignal) =>
  fetch(`${api.url}/executions/${uuid}`, { headers: { authorization: `Bearer ${token}`, ...(wait ? { prefer: `wait=${wait}` } : {}) }, ...(signal ? { signal } : {}) });
const ready = async () => (await fetch(`${api.url}/readyz`).catch(() => undefined))?.status;

describe('PostgreSQL outage', () => {
  test('10 s without the database: /readyz says so, then recovers, and long-polls are woken by changes again', async () => {
    expect(await ready()).toBe(200);
    await proxy.cut();
    await until(async () => (await ready()) === 503, 10_000, 200).catch((e) => { console.log(api.child.exitCode, api.output.join('').slice(-3000)); throw e; });
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await ready()).toBe(503);
    await proxy.restore();
    await until(async () => (await ready()) === 200, 20_000, 200);

    const uuid = await offerOf('alice');
    const started = Date.now();
    const polled = get(uuid, ALICE, 30);
    await new Promise((r) => setTimeout(r, 500));
    // Changed behind the API's back, on another connection: only the notification can tell it.
    expect((await acceptExecution(db.db, uuid)).outcome).toBe('accepted');
    const res = await polled;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { phase: string }).phase).toBe('ACCEPTED');
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 90_000);
});

describe('long-poll caps', () => {
  test('past its cap an owner gets 429 with Retry-After; other users are served at once', async () => {
    const mine = await offerOf('alice');
    const theirs = await offerOf('bob');
    const stop = new AbortController();
    const held = Array.from({ length: 4 }, () => get(mine, ALICE, 30, stop.signal).catch(() => undefined));
    await until(async () => {
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      return /^eb_long_polls_open(\{[^}]*\})? 4$/m.test(metrics);
    }, 10_000, 100);
    const refused = await get(mine, ALICE, 30);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    // A plain read by the same owner is not a long-poll: still served.
    expect((await get(mine, ALICE)).status).toBe(200);
    const t0 = Date.now();
    const other = await get(theirs, BOB);
    expect(other.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_000);
    const otherWait = await get(theirs, BOB, 1);
    expect(otherWait.headers.get('preference-applied')).toBe('wait=1');
    stop.abort();
    await Promise.all(held);
    await until(async () => (await get(mine, ALICE, 1)).status === 200, 10_000, 200);
  }, 60_000);
});
