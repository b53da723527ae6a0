import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { findExecution } from '@eb/db';
import { Kinds } from '@eb/schema';
import { databaseUrl, freePort, redisUrl, testDatabase, until } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { credentialsKey, startIssuer, writeStaticTokens, type TestIssuer } from '../support/auth.js';

// Authentication and ownership through the deployed services, with a local OIDC issuer.
const db = testDatabase(2);
const services: Service[] = [];
let issuer: TestIssuer;
let offers = '';
let executions = '';
const LOCAL_TOKEN = `local-${randomUUID()}`;

beforeAll(async () => {
  issuer = await startIssuer(4);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `auth-${randomUUID().slice(0, 8)}`,
    EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `auth-${randomUUID().slice(0, 8)}`,
    EB_OIDC_ISSUER: issuer.url, EB_OIDC_AUDIENCE: issuer.audience, EB_CREDENTIALS_KEY: credentialsKey(),
    EB_STATIC_TOKENS_FILE: writeStaticTokens({ [LOCAL_TOKEN]: { subject: 'local-user' } }),
    EB_SIM_PREPARE: '200', EB_SIM_RUN: '200', EB_SIM_RELEASE: '100', EB_POLL_MIN: '50', EB_POLL_MAX: '200',
    EB_REFRESH_EVERY: '300', EB_REFRESH_AHEAD: 'PT2S', EB_PREPARE_ESTIMATE: 'PT1S', EB_RELEASE_ESTIMATE: 'PT1S',
  };
  const [a, b, c] = await Promise.all([freePort(), freePort(), freePort()]);
  services.push(await startService('offerset-api', a, env), await startService('execution-api', b, env), await startService('platform-worker', c, env));
  offers = `${services[0]!.url}/offersets`;
  executions = `${services[1]!.url}/executions`;
}, 60_000);

afterAll(async () => {
  for (const s of services) await stopService(s);
  await issuer.close();
  await db.close();
});

const request = (extra: Record<string, unknown> = {}) => ({
  executable: { kind: Kinds.dockerContainer, image: { locations: ['example/app:1'], digest: 'sha256:0123012301230123012301230123012301230123012301230123012301230123' }, ...extra },
});
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

async function offer(token: string, body: unknown = request()): Promise<string> {
  const res = await fetch(offers, { method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...bearer(token) }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { offers: { meta: { uuid: string } }[] }).offers[0]!.meta.uuid;
}

const update = (uuid: string, token: string, value: string, headers: Record<string, string> = {}) => fetch(`${executions}/${uuid}`, {
  method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(token), ...headers },
  body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value }),
});

describe('tokens', () => {
  test('no token, a bad token: 401 problems with a Bearer challenge; health and the OpenAPI document stay open', async () => {
    const none = await fetch(offers, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="execution-broker"');
    expect(none.headers.get('content-type')).toMatch(/problem\+json/);
    const bad = await fetch(`${executions}/${randomUUID()}`, { headers: bearer('not-a-token') });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    for (const s of services) expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${services[0]!.url}/openapi.json`)).status).toBe(200);
  });

  test('valid, expired, wrong-issuer, wrong-audience and wrongly signed JWTs', async () => {
    const post = async (token: string) => fetch(offers, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json', ...bearer(token) }, body: JSON.stringify(request()) });
    expect((await post(await issuer.sign({ sub: 'alice' }))).status).toBe(303);
    const expired = await post(await issuer.sign({ sub: 'alice' }, { expiresInS: -10 }));
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/expired/);
    expect((await post(await issuer.sign({ sub: 'alice' }, { issuer: 'https://elsewhere.example' }))).status).toBe(401);
    const audience = await post(await issuer.sign({ sub: 'alice' }, { audience: 'someone-else' }));
    expect(audience.status).toBe(401);
    expect(audience.headers.get('www-authenticate')).toMatch(/aud/);
    expect((await post(await issuer.sign({ sub: 'alice' }, { key: 'other' }))).status).toBe(401);
    expect((await post(LOCAL_TOKEN)).status).toBe(303);
  });
});

describe('ownership', () => {
  test('others see 404, a granted group reads but cannot change, an admin reads and cancels', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const bob = await issuer.sign({ sub: 'bob' });
    const astronomer = await issuer.sign({ sub: 'carol', groups: ['astro'] });
    const admin = await issuer.sign({ sub: 'root', roles: ['eb-admin'] });
    const shared = await offer(alice, { ...request(), access: { readers: ['astro'] } });

    expect((await fetch(`${executions}/${shared}`, { headers: bearer(bob) })).status).toBe(404);
    expect((await update(shared, bob, 'ACCEPTED')).status).toBe(404);
    expect((await fetch(`${executions}/${shared}`, { headers: bearer(astronomer) })).status).toBe(200);
    expect((await update(shared, astronomer, 'ACCEPTED')).status).toBe(403);
    expect((await fetch(`${executions}/${shared}`, { headers: bearer(admin) })).status).toBe(200);
    expect((await update(shared, admin, 'ACCEPTED')).status).toBe(403);

    const accepted = await update(shared, alice, 'ACCEPTED');
    expect(accepted.status).toBe(200);
    const cancelled = await update(shared, admin, 'CANCELLED');
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { phase: string }).phase).toBe('CANCELLED');
  });

  test('offer sets are private to their owner too', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const res = await fetch(offers, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json', ...bearer(alice) }, body: JSON.stringify(request()) });
    const location = res.headers.get('location')!;
    expect((await fetch(location, { headers: bearer(alice) })).status).toBe(200);
    expect((await fetch(location, { headers: bearer(await issuer.sign({ sub: 'bob' })) })).status).toBe(404);
  });
});

describe('the owner\'s token for background work', () => {
  test('is kept encrypted and refreshed during a long execution; one that cannot be renewed fails its execution', async () => {
    const long = request({ environment: {}, network: { ports: [{ access: true, internal: { port: 80 } }] } });
    const token = await issuer.sign({ sub: 'dave' }); // lives 4 s
    const keeps = await offer(token, { ...long, schedule: { requested: { duration: 'PT8S' } } });
    expect((await update(keeps, token, 'ACCEPTED', { 'X-Refresh-Token': issuer.refreshTokenFor('dave') })).status).toBe(200);
    const stored = await db.db.selectFrom('credentials').selectAll().where('execution_uuid', '=', keeps).executeTakeFirstOrThrow();
    expect(stored.access_token.includes(Buffer.from(token))).toBe(false);
    expect(stored.access_token.includes(Buffer.from(token.split('.')[1]!))).toBe(false);

    const lapses = await offer(token, { ...long, schedule: { requested: { duration: 'PT8S' } } });
    expect((await update(lapses, token, 'ACCEPTED')).status).toBe(200);

    const failed = await until(async () => {
      const r = await findExecution(db.db, lapses);
      return r?.execution.phase === 'FAILED' ? r : undefined;
    }, 15_000, 200);
    expect(failed.execution.messages).toContainEqual(expect.objectContaining({ kind: 'urn:credential-expired' }));

    // Meanwhile the other one's token was renewed and it is still running past the first token's expiry.
    const fresh = await db.db.selectFrom('credentials').selectAll().where('execution_uuid', '=', keeps).executeTakeFirstOrThrow();
    expect(issuer.refreshCalls).toBeGreaterThanOrEqual(1);
    expect(fresh.expires_at!.getTime()).toBeGreaterThan(stored.expires_at!.getTime());
    const running = (await findExecution(db.db, keeps))!.execution.phase;
    expect(['AVAILABLE', 'RELEASING', 'COMPLETED']).toContain(running);
  }, 40_000);
});
