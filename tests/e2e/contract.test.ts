import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { databaseUrl, freePort, readRequest, redisUrl } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';
import { startLoadBalancer } from '../support/load-balancer.js';

// The upstream contract (Calycopis 1.0.7 as its Python client and test catalogue use it), driven against
// the whole broker running as its own processes behind the load balancer (HAProxy, deploy/haproxy/haproxy.cfg): the HTTP exchanges, their statuses
// and redirects, and the documents, as a client of the upstream broker sees them.
const OWNER = `owner-${randomUUID()}`;
const READER = `reader-${randomUUID()}`;
const STRANGER = `stranger-${randomUUID()}`;
const services: Service[] = [];
let base = '';

const KINDS = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED'];

interface Reply {
  status: number;
  url: string;
  redirected: boolean;
  location: string | null;
  type: string;
  body: any;
}

/**
 * What the Python client does with `requests`: JSON bodies, `Accept: *\/*`, redirects followed (a 303
 * after a POST becomes a GET of the Location, with the same credentials, since it is the same host).
 */
async function py(method: 'GET' | 'POST', path: string, o: { json?: unknown; token?: string; follow?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { Accept: '*/*', 'User-Agent': 'python-requests/2.32.3' };
  if (o.token !== null) headers.Authorization = `Bearer ${o.token ?? OWNER}`;
  if (o.json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path.startsWith('http') ? path : `${base}${path}`, {
    method, headers, redirect: o.follow === false ? 'manual' : 'follow', ...(o.json !== undefined ? { body: JSON.stringify(o.json) } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, url: res.url, redirected: res.redirected, location: res.headers.get('location'), type, body: /json/.test(type) && text ? JSON.parse(text) : text };
}

/** The Python client's wait: GET the session again and again until it reaches a phase. */
async function poll(uuid: string, phases: string[], timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await py('GET', `/sessions/${uuid}`);
    expect(r.status).toBe(200);
    if (phases.includes(r.body.phase) || TERMINAL.includes(r.body.phase)) return r.body;
    if (Date.now() > deadline) throw new Error(`session ${uuid} still ${r.body.phase}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const update = (value: string, path = '/phase') => ({ kind: 'uri:enum-value-update', path, value });

beforeAll(async () => {
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `contract-${randomUUID().slice(0, 8)}`,
    EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `contract-${randomUUID().slice(0, 8)}`, EB_CAPACITY_CORES: '64', EB_CAPACITY_MEMORY_GIB: '256',
    EB_STATIC_TOKENS_FILE: writeStaticTokens({
      [OWNER]: { subject: 'contract-owner' }, [READER]: { subject: 'contract-reader', groups: ['contract-team'] }, [STRANGER]: { subject: 'someone-else' },
    }),
    EB_SIM_PREPARE: '300', EB_SIM_RUN: '500', EB_SIM_RELEASE: '100', EB_POLL_MIN: '50', EB_POLL_MAX: '200',
    EB_PREPARE_ESTIMATE: 'PT1S', EB_RELEASE_ESTIMATE: 'PT1S', EB_OUTPUT_CAPTURE_EVERY: '100',
  };
  services.push(await startService('offerset-api', os, env), await startService('execution-api', ex, env), await startService('platform-worker', wk, env));
  services.push(await startLoadBalancer({ offersets: [services[0]!.url], executions: [services[1]!.url] }));
  base = services[3]!.url;
}, 60_000);

afterAll(async () => {
  for (const s of services) await stopService(s);
});

describe('upstream contract: requests and offer sets', () => {
  test('POST /requests answers 303 to /offersets/{uuid}; following it gives the offer set (the minimal example)', async () => {
    const request = await readRequest('execution-request-docker-minimal.json');
    const raw = await py('POST', '/requests', { json: request, follow: false });
    expect(raw.status).toBe(303);
    expect(raw.location).toMatch(new RegExp(`^${base}/offersets/${UUID.source}$`));
    const set = await py('POST', '/requests', { json: request });
    expect(set).toMatchObject({ status: 200, redirected: true });
    expect(set.url).toMatch(/\/offersets\//);
    expect(set.type).toMatch(/^application\/json/);
    expect(set.body).toMatchObject({ result: 'YES', meta: { uuid: expect.stringMatching(UUID) } });
    expect(set.body.offers.length).toBeGreaterThan(0);
    for (const offer of set.body.offers) {
      expect(offer).toMatchObject({
        kind: `${KINDS}/session/scheduled-execution-session.yaml`, phase: 'OFFERED',
        meta: { uuid: expect.stringMatching(UUID), url: `${base}/executions/${offer.meta.uuid}` },
        executable: { kind: `${KINDS}/executable/docker-container.yaml`, meta: { uuid: expect.stringMatching(UUID), name: 'cantliei-test' }, command: ['10', '0'] },
        schedule: { preparing: { start: expect.any(String) }, available: { duration: 'PT1H' } },
      });
      expect(Date.parse(offer.expires)).toBeGreaterThan(Date.now());
      expect(offer.costs.map((c: { type: string }) => c.type)).toEqual(expect.arrayContaining(['urn:ivoa:calycopis:cost:monetary', 'urn:ivoa:calycopis:cost:energy', 'urn:ivoa:calycopis:cost:carbon']));
      expect(offer.metrics.map((m: { type: string }) => m.type)).toContain('urn:ivoa:calycopis:metric:compute-performance');
      expect(offer.connectors).toEqual([
        { kind: `${KINDS}/executable/docker-container-stdout-get.yaml`, protocol: 'HTTP', status: 'PREPARING' },
        { kind: `${KINDS}/executable/docker-container-stderr-get.yaml`, protocol: 'HTTP', status: 'PREPARING' },
      ]);
      expect(offer.meta.options).toEqual([{ kind: 'uri:enum-value-option', path: 'phase', values: ['ACCEPTED', 'REJECTED', 'CANCELLED'] }]);
    }
    for (const o of set.body.offers) await py('POST', `/sessions/${o.meta.uuid}`, { json: update('REJECTED') });
  });

  test('a request that cannot be met is a 303 too, to a NO offer set with upstream-style messages', async () => {
    const request = await readRequest('execution-request-docker-compute-schedule.json');
    const set = await py('POST', '/requests', { json: request });
    expect(set.status).toBe(200);
    expect(set.redirected).toBe(true);
    expect(set.body).toMatchObject({ result: 'NO', offers: [] });
    expect(set.body.meta.messages).toEqual([expect.objectContaining({ kind: 'urn:missing-value', values: { path: 'executable.image.digest' } })]);
    const limits = await py('POST', '/requests', { json: { ...request, executable: { ...request.executable, image: { ...request.executable.image, digest: `sha256:${'a'.repeat(64)}` } }, compute: { ...request.compute, cores: { min: 100 } } } });
    expect(limits.body.meta.messages[0]).toMatchObject({ kind: 'urn:resource-limit', values: expect.objectContaining({ what: 'cores', min: '100' }) });
    const unknown = await py('POST', '/requests', { json: { executable: { kind: `${KINDS}/executable/wasm-module.yaml` } } });
    expect(unknown.body.meta.messages[0]).toMatchObject({ kind: 'uri:unknown-type', message: `Unknown kind [${KINDS}/executable/wasm-module.yaml] at [executable]` });
    const privileged = await py('POST', '/requests', { json: { executable: { ...(await readRequest('execution-request-docker-minimal.json')).executable, privileged: true } } });
    expect(privileged.body.meta.messages.map((m: { kind: string }) => m.kind)).toContain('urn:not-supported');
  });

  test('the data example: the data gets a storage of its own, every reference is a UUID', async () => {
    const set = await py('POST', '/requests', { json: await readRequest('execution-request-http-data-volume.json') });
    expect(set.body.result).toBe('YES');
    const offer = set.body.offers[0];
    const [storage] = offer.storage;
    const [data] = offer.data;
    expect(storage).toMatchObject({ kind: `${KINDS}/storage/simple-storage-resource.yaml`, meta: { uuid: expect.stringMatching(UUID) }, data: [data.meta.uuid] });
    expect(data).toMatchObject({ kind: `${KINDS}/data/simple-data-resource.yaml`, storage: storage.meta.uuid, meta: { name: 'input-data' } });
    expect(offer.compute.volumes[0]).toMatchObject({ resource: data.meta.uuid, path: '/input', mode: 'READONLY' });
    for (const o of set.body.offers) await py('POST', `/sessions/${o.meta.uuid}`, { json: update('REJECTED') });
  });
});

describe('upstream contract: sessions', () => {
  test('accept with path "/phase", the siblings are rejected; poll the session to COMPLETED; read its stdout', async () => {
    const request = await readRequest('execution-request-docker-minimal.json');
    request.executable.environment = { SIMULATED_STDOUT: 'checksum ok\n' };
    request.compute = { kind: `${KINDS}/compute/simple-compute-resource.yaml`, cores: { min: 1, max: 2 } };
    const set = await py('POST', '/requests', { json: request });
    const [chosen, ...others] = set.body.offers;
    expect(others.length).toBeGreaterThan(0);
    const accepted = await py('POST', `/sessions/${chosen.meta.uuid}`, { json: update('ACCEPTED') });
    expect(accepted.status).toBe(200);
    // The session as it is now: the worker may already have taken its first step.
    expect(['ACCEPTED', 'WAITING', 'PREPARING']).toContain(accepted.body.phase);
    for (const o of others) expect((await py('GET', `/sessions/${o.meta.uuid}`)).body.phase).toBe('REJECTED');
    const done = await poll(chosen.meta.uuid, ['COMPLETED']);
    expect(done.phase).toBe('COMPLETED');
    expect(done.meta.messages.filter((m: { kind: string }) => m.kind === 'urn:phase-change').map((m: { values: { phase: string } }) => m.values.phase))
      .toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
    const stdout = done.connectors.find((c: { kind: string }) => c.kind.endsWith('stdout-get.yaml'));
    expect(stdout).toMatchObject({ status: 'FINISHED', protocol: 'HTTP', location: `${base}/sessions/${chosen.meta.uuid}/docker/stdout-get` });
    const text = await py('GET', stdout.location);
    expect(text).toMatchObject({ status: 200, body: 'checksum ok\n' });
    expect(text.type).toMatch(/^text\/plain/);
  });

  test('the example update documents (path "phase"): reject an offer, cancel an accepted session', async () => {
    const set = await py('POST', '/requests', { json: await readRequest('execution-request-docker-minimal.json') });
    const [a, b] = set.body.offers.length > 1 ? set.body.offers : [set.body.offers[0], undefined];
    const rejected = await py('POST', `/sessions/${a.meta.uuid}`, { json: await readRequest('session-update-reject.json') });
    expect(rejected.body.phase).toBe('REJECTED');
    const other = b ?? (await py('POST', '/requests', { json: await readRequest('execution-request-docker-minimal.json') })).body.offers[0];
    expect((await py('POST', `/sessions/${other.meta.uuid}`, { json: await readRequest('session-update-accept.json') })).status).toBe(200);
    const cancelled = await py('POST', `/sessions/${other.meta.uuid}`, { json: await readRequest('session-update-cancel.json') });
    expect(cancelled).toMatchObject({ status: 200, body: { phase: 'CANCELLED' } });
    // Accepting a rejected offer is a conflict.
    expect((await py('POST', `/sessions/${a.meta.uuid}`, { json: update('ACCEPTED') })).status).toBe(409);
  });

  test('POST /direct answers 303 to the accepted session; a request no session can be made for is a 400', async () => {
    const raw = await py('POST', '/direct', { json: await readRequest('execution-request-docker-minimal.json'), follow: false });
    expect(raw.status).toBe(303);
    const uuid = UUID.exec(raw.location ?? '')![0];
    const followed = await py('GET', raw.location!);
    expect(followed.body.meta.uuid).toBe(uuid);
    expect(['ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']).toContain(followed.body.phase);
    expect((await poll(uuid, ['COMPLETED'])).phase).toBe('COMPLETED');
    const bad = await py('POST', '/direct', { json: await readRequest('execution-request-docker-compute-schedule.json') });
    expect(bad.status).toBe(400);
    expect(bad.body.messages[0].kind).toBe('urn:missing-value');
  });

  test('unknown sessions and offer sets are 404; someone else\'s is 404 too; a reader may look but an update is 403', async () => {
    const nobody = randomUUID();
    expect((await py('GET', `/sessions/${nobody}`)).status).toBe(404);
    expect((await py('POST', `/sessions/${nobody}`, { json: update('ACCEPTED') })).status).toBe(404);
    expect((await py('GET', `/offersets/${nobody}`)).status).toBe(404);
    expect((await py('GET', `/sessions/${nobody}/docker/stdout-get`)).status).toBe(404);
    const request = { ...(await readRequest('execution-request-docker-minimal.json')), access: { readers: ['contract-team'] } };
    const set = await py('POST', '/requests', { json: request });
    const uuid = set.body.offers[0].meta.uuid;
    expect((await py('GET', `/sessions/${uuid}`, { token: STRANGER })).status).toBe(404);
    expect((await py('POST', `/sessions/${uuid}`, { json: update('ACCEPTED'), token: STRANGER })).status).toBe(404);
    expect((await py('GET', `/sessions/${uuid}`, { token: READER })).status).toBe(200);
    const forbidden = await py('POST', `/sessions/${uuid}`, { json: update('ACCEPTED'), token: READER });
    expect(forbidden.status).toBe(403);
    expect(forbidden.type).toMatch(/^application\/problem\+json/);
    expect((await py('GET', `/sessions/${uuid}`, { token: null as unknown as string })).status).toBe(401);
    await py('POST', `/sessions/${uuid}`, { json: update('REJECTED') });
  });
});
