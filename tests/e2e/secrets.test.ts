import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, declareAbilities, freePort, redisUrl, testDatabase } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';

// Whoever can read the logs must not learn a credential from them.
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const REFRESH = `refresh-${randomBytes(12).toString('hex')}`;
const WRONG = `wrong-${randomBytes(12).toString('hex')}`;
const services: Service[] = [];
const platformName = `sim-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'logged-user' } }),
    EB_QUEUE_PREFIX: `secrets-${randomUUID().slice(0, 8)}`, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platformName,
    // Every request logged, as an operator debugging would run it.
    LOG_LEVEL: 'debug',
  };
  services.push(await startService('offerset-api', await freePort(), env), await startService('execution-api', await freePort(), env));
  // No worker runs here: declare what the simulated platform's worker would.
  const db = testDatabase(1);
  await declareAbilities(db.db, platformName);
  await db.close();
}, 60_000);

afterAll(async () => {
  for (const s of services) await stopService(s);
});

describe('secrets in logs', () => {
  test('authorization and refresh-token headers are redacted from every service log', async () => {
    const [offersets, executions] = services;
    const headers = { authorization: `Bearer ${TOKEN}`, 'x-refresh-token': REFRESH, cookie: `session=${TOKEN}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ executable: { kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/docker-container.yaml',
      image: { locations: ['ghcr.io/x/y:1'], digest: `sha256:${'a'.repeat(64)}` } } });
    const created = await fetch(`${offersets!.url}/offersets`, { method: 'POST', headers, body, redirect: 'manual' });
    expect(created.status).toBe(303);
    const set = await (await fetch(created.headers.get('location')!.replace(/^https?:\/\/[^/]+/, offersets!.url), { headers })).json() as { offers: { meta: { uuid: string } }[] };
    const uuid = set.offers[0]!.meta.uuid;
    const accepted = await fetch(`${executions!.url}/executions/${uuid}`, { method: 'POST', headers, body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }) });
    expect(accepted.status).toBe(200);
    // A wrong token is a credential too (someone else's, mistyped).
    expect((await fetch(`${executions!.url}/executions/${uuid}`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    const logs = services.map((s) => s.output.join('')).join('\n');
    expect(logs).toContain('"authorization":"[redacted]"');
    expect(logs).toContain('"x-refresh-token":"[redacted]"');
    for (const secret of [TOKEN, REFRESH, WRONG]) expect(logs).not.toContain(secret);
  }, 60_000);
});

describe('local files', () => {
  test('.local is 0700 and what it holds (secrets, tokens, logs) is 0600', () => {
    const local = fileURLToPath(new URL('../../../.local/', import.meta.url));
    expect(statSync(local).mode & 0o777).toBe(0o700);
    const files: string[] = [];
    const walk = (dir: string) => readdirSync(dir, { withFileTypes: true }).forEach((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) { if (!['pyenv', 'venv', 'images'].includes(e.name)) walk(p); } else if (e.isFile()) files.push(p);
    });
    walk(local);
    expect(files.length).toBeGreaterThan(0);
    const open = files.filter((f) => (statSync(f).mode & 0o077) !== 0);
    expect(open).toEqual([]);
  });
});
