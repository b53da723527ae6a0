import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { databaseUrl, declareAbilities, freePort, readRequest, redisUrl, testDatabase } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';
import { HAPROXY_CONFIG, startLoadBalancer, type LoadBalancer } from '../support/load-balancer.js';
import { requestCount } from '../support/metrics.js';

// HAProxy with the deployment's own configuration (deploy/haproxy/haproxy.cfg) in front of two
// offer-set API replicas and the execution API, as compose and local mode run it.
const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let env: Record<string, string>;
let replicas: Service[] = [];
let executionApi: Service;
let lb: LoadBalancer;
const ports: number[] = [];

beforeAll(async () => {
  ports.push(...await Promise.all([freePort(), freePort(), freePort()]));
  env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'lb-user' } }),
    EB_QUEUE_PREFIX: `lb-${randomUUID().slice(0, 8)}`, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `lb-${randomUUID().slice(0, 8)}`,
    EB_CAPACITY_CORES: '512', EB_CAPACITY_MEMORY_GIB: '4096',
    // One user holds all 300 long-polls here (the per-owner cap is tested in liveness.test.ts): the load balancer is what is tried.
    EB_LONG_POLLS_PER_OWNER: '1000',
  };
  // No worker runs here: the simulated platform's abilities are declared as its worker would, first,
  // since an offer-set API is ready (and the load balancer sends it requests) only once they are.
  const db = testDatabase(1);
  await declareAbilities(db.db, env.EB_PLATFORM_NAME!);
  await db.close();
  replicas = await Promise.all([startService('offerset-api', ports[0]!, env), startService('offerset-api', ports[1]!, env)]);
  executionApi = await startService('execution-api', ports[2]!, env);
  lb = await startLoadBalancer({ offersets: replicas.map((r) => r.url), executions: [executionApi.url] });
}, 60_000);

afterAll(async () => {
  for (const s of [lb, executionApi, ...replicas]) if (s) await stopService(s);
});

const openapiCount = async (s: Service) => requestCount(await (await fetch(`${s.url}/metrics`)).text(), 'GET', '/openapi.json');

test('requests on one kept-alive connection are spread over both offer-set replicas', async () => {
  const before = await Promise.all(replicas.map(openapiCount));
  // fetch keeps the connection to the load balancer alive: balancing must be per request, not per connection.
  for (let i = 0; i < 20; i++) expect((await fetch(`${lb.url}/openapi.json`)).status).toBe(200);
  const served = (await Promise.all(replicas.map(openapiCount))).map((n, i) => n - before[i]!);
  expect(served[0]! + served[1]!).toBe(20);
  expect(served[0]).toBeGreaterThanOrEqual(8);
  expect(served[1]).toBeGreaterThanOrEqual(8);
  // The load balancer's own metrics, per replica, on its admin port.
  const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text();
  for (const server of ['offerset-api-1', 'offerset-api-2', 'execution-api-1']) {
    expect(metrics).toMatch(new RegExp(`^haproxy_server_status\\{proxy="\\w+",server="${server}",state="UP"\\} 1$`, 'm'));
  }
});

test('hundreds of open long-polls do not starve other requests, and each gets its answer', async () => {
  const created = await fetch(`${lb.url}/offersets`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH },
    body: JSON.stringify(await readRequest('execution-request-docker-minimal.json')),
  });
  const offer = (await created.json() as { offers: { meta: { uuid: string } }[] }).offers[0]!.meta.uuid;
  const polls = Array.from({ length: 300 }, () => fetch(`${lb.url}/executions/${offer}`, { headers: { Prefer: 'wait=4', ...AUTH } }));
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  const quick = await fetch(`${lb.url}/openapi.json`);
  expect(quick.status).toBe(200);
  // Starved, it would wait for the long-polls (4 s); a loaded CI machine still answers well within that.
  expect(Date.now() - t0).toBeLessThan(3500);
  const answers = await Promise.all(polls);
  expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
}, 90_000);

test('timeouts outlast the 60 s long-polls', () => {
  const cfg = readFileSync(HAPROXY_CONFIG, 'utf8');
  const seconds = (name: string) => Number(new RegExp(`^\\s*timeout ${name} (\\d+)s$`, 'm').exec(cfg)?.[1]);
  expect(seconds('server')).toBeGreaterThan(60);
  expect(seconds('client')).toBeGreaterThan(60);
});

test('a SIGKILLed replica costs no failed request; it is back in rotation once restarted', async () => {
  await stopService(replicas[0]!, 'SIGKILL');
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await fetch(`${lb.url}/openapi.json`)).status);
  expect(statuses).toEqual(statuses.map(() => 200));
  replicas[0] = await startService('offerset-api', ports[0]!, env);
  const before = await openapiCount(replicas[0]!);
  const deadline = Date.now() + 10_000;
  while ((await openapiCount(replicas[0]!)) === before && Date.now() < deadline) await fetch(`${lb.url}/openapi.json`);
  expect(await openapiCount(replicas[0]!)).toBeGreaterThan(before);
}, 90_000);

test('paths no API serves get a problem document, with the path safely quoted', async () => {
  const res = await fetch(`${lb.url}/nowhere/%22%5C"quoted\\`);
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = await res.json() as { status: number; detail: string };
  expect(body.status).toBe(404);
  expect(body.detail).toMatch(/^No resource at GET \/nowhere\//);
  expect((await fetch(`${lb.url}/healthz`)).status).toBe(200);
});
