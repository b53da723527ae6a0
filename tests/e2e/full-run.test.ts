import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { databaseUrl, freePort, readRequest, redisUrl } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';
import { startLoadBalancer } from '../support/load-balancer.js';

const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };

// The whole path through separate processes, as deployed: HAProxy (deploy/haproxy) -> two APIs -> PostgreSQL/Redis -> worker.
const services: Service[] = [];
let base = '';

beforeAll(async () => {
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'e2e-user' } }),
    EB_QUEUE_PREFIX: `e2e-${randomUUID().slice(0, 8)}`, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `e2e-${randomUUID().slice(0, 8)}`,
    EB_SIM_PREPARE: '400', EB_SIM_RUN: '400', EB_SIM_RELEASE: '200', EB_PREPARE_ESTIMATE: 'PT1S', EB_RELEASE_ESTIMATE: 'PT1S',
    EB_POLL_MIN: '50', EB_POLL_MAX: '200',
  };
  services.push(await startService('offerset-api', os, env));
  services.push(await startService('execution-api', ex, env));
  services.push(await startService('platform-worker', wk, env));
  const lb = await startLoadBalancer({ offersets: [services[0]!.url], executions: [services[1]!.url] });
  services.push(lb);
  base = lb.url;
}, 60_000);

afterAll(async () => {
  for (const s of services.reverse()) await stopService(s);
});

test('offer -> accept -> COMPLETED through the HTTP APIs and a worker process', async () => {
  const created = await fetch(`${base}/offersets`, {
    method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json', ...AUTH },
    body: JSON.stringify(await readRequest('execution-request-docker-minimal.json')),
  });
  expect(created.status).toBe(303);
  const location = created.headers.get('location')!;
  expect(location.startsWith(`${base}/offersets/`)).toBe(true);
  const set = await (await fetch(location, { headers: AUTH })).json() as { result: string; offers: { meta: { uuid: string; url: string } }[] };
  expect(set.result).toBe('YES');
  const offer = set.offers[0]!;
  expect(offer.meta.url).toBe(`${base}/executions/${offer.meta.uuid}`);

  const accepted = await fetch(offer.meta.url, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH },
    body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }),
  });
  expect(accepted.status).toBe(200);

  // Follow it with long-polls, recording every phase we are shown.
  const seen: string[] = [];
  const deadline = Date.now() + 30_000;
  let body: { phase: string; meta: { messages: { kind: string; values: { phase: string }; time: string }[] } } | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(offer.meta.url, { headers: { Prefer: 'wait=5', ...AUTH } });
    expect(res.headers.get('preference-applied')).toBe('wait=5');
    body = await res.json() as typeof body;
    if (seen.at(-1) !== body!.phase) seen.push(body!.phase);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(body!.phase)) break;
  }
  expect(body!.phase).toBe('COMPLETED');
  const history = body!.meta.messages.filter((m) => m.kind === 'urn:phase-change');
  expect(history.map((m) => m.values.phase)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
  expect(seen.at(-1)).toBe('COMPLETED');
  // The siblings of the accepted offer were rejected.
  const after = await (await fetch(location, { headers: AUTH })).json() as { offers: { phase: string }[] };
  expect(after.offers.slice(1).every((o) => o.phase === 'REJECTED')).toBe(true);
  // Upstream's /sessions path and the YAML representation serve the same execution.
  const yamlRes = await fetch(`${base}/sessions/${offer.meta.uuid}`, { headers: { Accept: 'application/yaml', ...AUTH } });
  expect(yamlRes.headers.get('content-type')).toMatch(/yaml/);
  expect(await yamlRes.text()).toMatch(/^phase: COMPLETED$/m);
}, 60_000);

test('the load balancer answers unknown paths, and the APIs unknown ids, with problems', async () => {
  const res = await fetch(`${base}/nowhere`);
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  const missing = await fetch(`${base}/executions/${randomUUID()}`, { headers: AUTH });
  expect(missing.status).toBe(404);
});
