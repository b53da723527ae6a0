import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { findCredential, findExecution, readOutput, type ExecutionRecord } from '@eb/db';
import { applyClientUpdate, createSealer, renderExecution } from '@eb/core';
import { quietLogger, testDatabase, until } from '@eb/tests/support/env.js';
import { storeOfferSet, type OfferSpec } from '@eb/tests/support/offers.js';
import { credentialsKey } from '@eb/tests/support/auth.js';
import { startFakeSkaha, type FakeSkaha } from '@eb/tests/support/fake-skaha.js';
import { startHarness, type Harness } from './harness.js';
import { SkahaPlatform } from '../src/platforms/skaha/index.js';
import { commandToken, type TokenSource } from '../src/platforms/skaha/token.js';

// The Skaha adapter over HTTP against a stand-in for the CANFAR session API.
// The adapter reads owners' tokens through its own connection, as the worker's does.
const db = testDatabase(2);
const sealer = createSealer(credentialsKey());
const tokenFile = join(tmpdir(), `skaha-token-${randomUUID()}`);
let h: Harness;
let skaha: FakeSkaha;
let tokens: TokenSource;
let gatekeeper: Server;
let gatekeeperUrl = '';
const tasks = new Map<string, { rows: unknown; polls: number; auth?: string }>();

/**
 * A stand-in for the CANSRC prepare-data gatekeeper: POST /preparedata with a bearer token and a list
 * of [DID, path in RSE, destination] rows answers a task id; GET /preparedata/{id} is PENDING, then
 * STARTED, then SUCCESS (FAILURE for a DID whose name says "broken").
 */
function startGatekeeper(): Promise<Server> {
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const json = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !skaha.validTokens.has(token)) return json(401, { detail: 'Not authenticated' });
    if (req.method === 'POST' && req.url === '/preparedata') {
      const rows = JSON.parse(raw) as unknown;
      if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'string'))) return json(422, { detail: 'body must be a list of [did, path, destination]' });
      const id = randomUUID();
      tasks.set(id, { rows, polls: 0, auth: req.headers.authorization });
      return json(200, { task_id: id });
    }
    const m = /^\/preparedata\/([0-9a-f-]+)$/.exec(req.url ?? '');
    const task = m ? tasks.get(m[1]!) : undefined;
    if (!task) return json(404, { detail: 'task not found' });
    task.polls += 1;
    const broken = JSON.stringify(task.rows).includes('broken');
    const status = task.polls === 1 ? 'PENDING' : task.polls === 2 ? 'STARTED' : broken ? 'FAILURE' : 'SUCCESS';
    return json(200, { task_id: m![1], status, ...(status === 'FAILURE' ? { error: 'replica not found on the local RSE' } : {}) });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  skaha = await startFakeSkaha({ startMs: 150, runMs: 300, terminateMs: 100 });
  gatekeeper = await startGatekeeper();
  gatekeeperUrl = `http://127.0.0.1:${(gatekeeper.address() as AddressInfo).port}`;
  writeFileSync(tokenFile, 'service-token-1');
  skaha.validTokens.add('service-token-1');
  tokens = commandToken(`cat ${tokenFile}`, 60_000);
  const adapter = new SkahaPlatform({ baseUrl: skaha.url, apiVersion: 'v1', renewEveryMs: 200, prepareDataUrl: gatekeeperUrl, dataHome: '/arc/home/{user}' }, tokens, async (uuid) => {
    const c = await findCredential(db.db, uuid);
    return c ? sealer.open(c.accessToken) : undefined;
  });
  h = await startHarness(adapter, { timing: { pollMaxMs: 150 } });
});

afterAll(async () => {
  await h.stop();
  tokens.stop();
  await skaha.close();
  await new Promise((r) => gatekeeper.close(r));
  rmSync(tokenFile, { force: true });
  await db.close();
});

const headless = (command: string[]) => ({ image: { locations: ['images.canfar.net/skaha/astro-tool:1.0'] }, command, environment: { STAGE: 'test', MODE: 'x' } });

const run = (spec: OfferSpec, owner?: { token: string }) =>
  h.run({ cores: 2, memoryGib: 8, ...spec }, owner ? { owner: { ...owner, sealer } } : {});
const ended = (uuid: string) => h.ended(uuid);

const sessionOf = (uuid: string) => [...skaha.sessions.values()].find((s) => s.name === `eb-${uuid.slice(0, 8)}`)!;
const exeMessages = (r: ExecutionRecord) => r.components.find((c) => c.role === 'executable')!.messages;

describe('Skaha platform', () => {
  test('headless: launched with the form fields Skaha takes, polled to Completed, deleted; the 404 after means released', async () => {
    const uuid = await run({ executable: headless(['python', 'reduce.py', '--fast']) });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    const s = sessionOf(uuid);
    expect(s).toMatchObject({ image: 'images.canfar.net/skaha/astro-tool:1.0', type: 'headless', cores: '2', ram: '8', cmd: 'python', args: 'reduce.py --fast' });
    expect([...s.env].sort()).toEqual(['MODE=x', 'STAGE=test']);
    expect(s.deletedAt).toBeDefined();
    expect(skaha.requests.some((q) => q.method === 'GET' && q.path === `/skaha/v1/session/${s.id}` )).toBe(true);
    expect(exeMessages(r).find((m) => m.kind === 'urn:exit-code')!.values!.log).toContain('running python reduce.py --fast');
    // The session's log (?view=logs) is kept as its stdout, read before the session was deleted.
    const out = (await readOutput(h.db.db, uuid, 'stdout'))!;
    expect(out.final).toBe(true);
    expect(out.content.toString()).toBe(`starting images.canfar.net/skaha/astro-tool:1.0\nrunning python reduce.py --fast\nenv ${s.env.join(' ')}\n`);
    expect(skaha.requests.some((q) => q.path === `/skaha/v1/session/${s.id}?view=logs`)).toBe(true);
  }, 40_000);

  test('interactive: AVAILABLE with the session\'s connect URL, renewed while it runs, deleted on cancel', async () => {
    const uuid = await run({ interactive: true, executable: { ...headless([]), network: { ports: [{ access: true, internal: { port: 8888 } }] } } });
    const available = await h.inPhase(uuid, 'AVAILABLE');
    const s = sessionOf(uuid);
    expect(s.type).toBe('contributed');
    expect(renderExecution(available, 'http://b').connectors?.[0]).toMatchObject({ protocol: 'HTTPS', location: s.connectURL });
    await until(async () => s.renewals >= 1, 10_000, 50);
    expect(skaha.requests.some((q) => q.method === 'POST' && q.path === `/skaha/v1/session/${s.id}?action=renew`)).toBe(true);
    await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    expect((await ended(uuid)).execution.phase).toBe('CANCELLED');
    expect(s.deletedAt).toBeDefined();
  }, 40_000);

  test('a session that fails, and a launch Skaha refuses, fail the execution with the reason', async () => {
    const failing = await run({ executable: headless(['sh', '-c', 'fail now']) });
    const refused = await run({ executable: { image: { locations: ['images.canfar.net/skaha/missing:1'] }, command: ['true'] } });
    const [a, b] = await Promise.all([ended(failing), ended(refused)]);
    expect(a.execution.phase).toBe('FAILED');
    expect(exeMessages(a).find((m) => m.kind === 'urn:exit-code')!.values!.log).toContain('session Failed');
    expect(b.execution.phase).toBe('FAILED');
    expect(JSON.stringify(b.execution.messages)).toContain('Skaha answered 400 to launch session: image not found');
  }, 40_000);

  test('5xx is retried with backoff; the launch still happens once', async () => {
    skaha.failNext('POST', /\/session$/, 503, 2);
    const uuid = await run({ executable: headless(['true']) });
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
    expect([...skaha.sessions.values()].filter((s) => s.name === `eb-${uuid.slice(0, 8)}`)).toHaveLength(1);
  }, 40_000);

  test('an expired service token is replaced by running the token command again', async () => {
    const uuid = await run({ executable: headless(['sleep', '1']) });
    await until(async () => (await findExecution(h.db.db, uuid))!.execution.phase === 'PREPARING' || (await findExecution(h.db.db, uuid))!.execution.phase === 'AVAILABLE', 10_000, 20);
    // The issuer rotates the token: the old one is refused from now on.
    writeFileSync(tokenFile, 'service-token-2');
    skaha.validTokens.add('service-token-2');
    skaha.validTokens.delete('service-token-1');
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
    expect(skaha.requests.some((q) => q.auth === 'Bearer service-token-2')).toBe(true);
  }, 40_000);

  test('the owner\'s token, when the broker keeps one, is what Skaha sees', async () => {
    skaha.validTokens.add('owner-token');
    const uuid = await run({ executable: headless(['true']) }, { token: 'owner-token' });
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
    const id = sessionOf(uuid).id;
    const calls = skaha.requests.filter((q) => q.path.includes(id));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((q) => q.auth === 'Bearer owner-token')).toBe(true);
  }, 40_000);

  test('the v0 API paths are used when configured', async () => {
    const v0 = new SkahaPlatform({ baseUrl: skaha.url, apiVersion: 'v0', renewEveryMs: 60_000 }, tokens);
    const set = await storeOfferSet(h.db.db, h.platform, [{ executable: headless(['true']) }]);
    const record = (await findExecution(h.db.db, set.offers[0]!.uuid))!;
    const component = record.components.find((c) => c.role === 'executable')!;
    const out = await v0.prepare({ record, component, state: {}, stateOf: () => ({}) });
    expect(skaha.requests.at(-1)!.path).toBe('/skaha/v0/session');
    const id = out.state!.sessionId as string;
    await v0.release({ record, component, state: { sessionId: id }, stateOf: () => ({}) });
  });

  test('SKAO and Rucio data: the prepare-data gatekeeper stages each DID into the user\'s home before the session starts', async () => {
    const uuid = await run({
      executable: headless(['python', 'md5.py']),
      extra: [
        { role: 'data', name: 'product', kind: Kinds.skaoData, spec: { skao: { namespace: 'testing', objectname: 'pi24/cube.fits', replicas: [{ rsename: 'SPSRC_STORM', dataurl: 'https://storm.example.org:8443/sa/testing/5b/a1/pi24/cube.fits' }] } } },
        { role: 'data', name: 'table', kind: Kinds.rucioData, spec: { rucio: { scope: 'user.eb', object: 'table.csv' } } },
      ],
    });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    const mine = [...tasks.values()].filter((t) => JSON.stringify(t.rows).includes(uuid));
    expect(mine.map((t) => t.rows).sort()).toEqual([
      [['testing:pi24/cube.fits', 'sa/testing/5b/a1/pi24/cube.fits', `eb-data/${uuid}/cube.fits`]],
      // No replica listed: Rucio's deterministic path, md5("user.eb:table.csv") = 4f/5e...
      [['user.eb:table.csv', expect.stringMatching(/^user\.eb\/[0-9a-f]{2}\/[0-9a-f]{2}\/table\.csv$/), `eb-data/${uuid}/table.csv`]],
    ].sort());
    expect(mine.every((t) => t.polls >= 3 && /^Bearer service-token-\d$/.test(t.auth ?? ''))).toBe(true);
    // The session was launched after the data was staged, and told where it is.
    expect(sessionOf(uuid).env).toContain(`EB_DATA_DIR=/arc/home/anonymous/eb-data/${uuid}`);
    const product = r.components.find((c) => c.name === 'product')!;
    expect(product.messages).toContainEqual(expect.objectContaining({ kind: 'urn:data-staged', values: { path: `/arc/home/anonymous/eb-data/${uuid}/cube.fits` } }));
  }, 40_000);

  test('a prepare-data task that fails, or a DID that climbs, fails the execution before any session', async () => {
    const broken = await run({ executable: headless(['true']), extra: [{ role: 'data', name: 'd', kind: Kinds.skaoData, spec: { skao: { namespace: 'testing', objectname: 'broken.fits' } } }] });
    const climbing = await run({ executable: headless(['true']), extra: [{ role: 'data', name: 'd', kind: Kinds.skaoData, spec: { skao: { namespace: 'testing', objectname: '../../../home/other/.ssh/id_rsa' } } }] });
    const [a, b] = await Promise.all([ended(broken), ended(climbing)]);
    expect(a.execution.phase).toBe('FAILED');
    expect(JSON.stringify(a.components.find((c) => c.role === 'data')!.messages)).toContain('ended FAILURE: replica not found on the local RSE');
    expect(b.execution.phase).toBe('FAILED');
    expect(JSON.stringify(b.execution.messages)).toContain('nor have');
    expect([...tasks.values()].some((t) => JSON.stringify(t.rows).includes('.ssh'))).toBe(false);
    for (const uuid of [broken, climbing]) expect([...skaha.sessions.values()].some((s) => s.name === `eb-${uuid.slice(0, 8)}`)).toBe(false);
  }, 40_000);
});
