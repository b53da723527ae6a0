import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { databaseUrl, freePort, redisUrl } from '@eb/tests/support/env.js';
import { startLoadBalancer } from '@eb/tests/support/load-balancer.js';
import { startService, stopService, type Service } from '@eb/tests/support/processes.js';
import { writeStaticTokens } from '@eb/tests/support/auth.js';
import { BrokerClient, BrokerError, NoOffersError } from '../src/index.js';

// The client and the CLI against the real services (PostgreSQL, Redis, a worker on the simulated platform).
const TOKEN = `client-${randomUUID()}`;
const services: Service[] = [];
let base = '';
const eb = fileURLToPath(new URL('../../bin/eb.js', import.meta.url));

const yamlRequest = (env: Record<string, string> = {}) => `
executable:
  kind: https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/docker-container.yaml
  meta: { name: client-test }
  image:
    locations: [ "example.org/app:1" ]
    digest: "sha256:0123012301230123012301230123012301230123012301230123012301230123"
  environment: ${JSON.stringify(env)}
compute:
  kind: https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/compute/simple-compute-resource.yaml
  cores: { min: 1, max: 2 }
schedule:
  requested: { duration: PT5M }
`;

function requestFile(env: Record<string, string> = {}): string {
  const f = join(tmpdir(), `eb-request-${randomUUID()}.yaml`);
  writeFileSync(f, yamlRequest(env));
  return f;
}

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [eb, ...args], { env: { ...process.env, EB_URL: base, EB_TOKEN: TOKEN } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `client-${randomUUID().slice(0, 8)}`,
    EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `client-${randomUUID().slice(0, 8)}`, EB_CAPACITY_CORES: '256',
    EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'client-user' } }),
    EB_SIM_PREPARE: '300', EB_SIM_RUN: '300', EB_SIM_RELEASE: '100', EB_POLL_MIN: '50', EB_POLL_MAX: '200',
    EB_PREPARE_ESTIMATE: 'PT1S', EB_RELEASE_ESTIMATE: 'PT1S', EB_OUTPUT_CAPTURE_EVERY: '100',
  };
  services.push(await startService('offerset-api', os, env), await startService('execution-api', ex, env), await startService('platform-worker', wk, env));
  services.push(await startLoadBalancer({ offersets: [services[0]!.url], executions: [services[1]!.url] }));
  base = services[3]!.url;
}, 60_000);

afterAll(async () => {
  for (const s of services) await stopService(s);
});

describe('client', () => {
  test('YAML request -> offers (following the 303) -> accept -> waitUntilTerminal', async () => {
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    const set = await client.requestOffers(yamlRequest());
    expect(set.result).toBe('YES');
    const offer = client.pickOffer(set, (o) => (o.compute as { cores?: { min?: number } }).cores?.min === 2);
    expect((await client.accept(offer.meta!.uuid!)).phase).toBe('ACCEPTED');
    const seen: string[] = [];
    const end = await client.waitUntilTerminal(offer.meta!.uuid!, { timeoutMs: 30_000, onUpdate: (e) => seen.push(e.phase ?? '') });
    expect(end.phase).toBe('COMPLETED');
    expect(seen.at(-1)).toBe('COMPLETED');
  }, 40_000);

  test('a request the broker cannot meet: NoOffersError with the messages', async () => {
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    const set = await client.requestOffers(yamlRequest().replace('digest: "sha256:0123012301230123012301230123012301230123012301230123012301230123"', ''));
    expect(set.result).toBe('NO');
    try {
      client.pickOffer(set);
      throw new Error('expected NoOffersError');
    } catch (err) {
      expect(err).toBeInstanceOf(NoOffersError);
      expect((err as NoOffersError).messages[0]?.kind).toBe('urn:missing-value');
    }
  });

  test('cancel during PREPARING; waitForPhase', async () => {
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    const offer = client.pickOffer(await client.requestOffers(yamlRequest({ SIMULATED_PREPARE_MS: '60000' })));
    await client.accept(offer.meta!.uuid!);
    await client.waitForPhase(offer.meta!.uuid!, ['PREPARING'], { timeoutMs: 10_000 });
    expect((await client.cancel(offer.meta!.uuid!)).phase).toBe('CANCELLED');
    expect((await client.waitUntilTerminal(offer.meta!.uuid!, { timeoutMs: 5000 })).phase).toBe('CANCELLED');
  }, 30_000);

  test('a long-poll that ends with no change (304 Not Modified) leaves waitForPhase and get working', async () => {
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    const offer = client.pickOffer(await client.requestOffers(yamlRequest({ SIMULATED_PREPARE_MS: '60000' })));
    const uuid = offer.meta!.uuid!;
    await client.accept(uuid);
    await client.waitForPhase(uuid, ['PREPARING'], { timeoutMs: 10_000 });
    // Each held wait of 1 s ends unchanged: the broker answers 304, and the client keeps what it had.
    await expect(client.waitForPhase(uuid, ['AVAILABLE'], { timeoutMs: 2_500 })).rejects.toMatchObject({ name: 'WaitTimeoutError' });
    const etag = (await fetch(`${base}/executions/${uuid}`, { headers: { authorization: `Bearer ${TOKEN}` } })).headers.get('etag')!;
    expect((await client.get(uuid, 1, etag)).phase).toBe('PREPARING');
    await client.cancel(uuid);
  }, 30_000);

  test('HTTP errors are BrokerErrors carrying the RFC 9457 problem', async () => {
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    await expect(client.get(randomUUID())).rejects.toMatchObject({ status: 404, problem: { title: 'Not Found' } });
    const err = await client.requestOffers({ compute: { kind: 'nonsense' } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).problem.errors?.[0]?.pointer).toBe('/compute/kind');
    const anonymous = new BrokerClient({ baseUrl: base });
    await expect(anonymous.get(randomUUID())).rejects.toMatchObject({ status: 401 });
  });

  test('unknown kind URIs in responses do not trouble the client', async () => {
    const fake = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'https://example.org/kinds/future-session.yaml', meta: { uuid: 'x' }, phase: 'COMPLETED', executable: { kind: 'https://example.org/kinds/quantum.yaml' } }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const client = new BrokerClient({ baseUrl: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
    const e = await client.waitUntilTerminal('x', { timeoutMs: 1000 });
    expect(e.executable?.kind).toBe('https://example.org/kinds/quantum.yaml');
    fake.close();
  });
});

describe('eb', () => {
  test('eb run: request, accept the first offer, watch to COMPLETED (exit 0)', async () => {
    // Preparation shorter than a long-poll round trip: the watcher still shows it, from the history.
    const r = await runCli(['run', requestFile({ SIMULATED_PREPARE_MS: '30' })]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/accepting [0-9a-f-]{36}/);
    const shown = [...r.out.matchAll(/\[\d\d:\d\d\.\d\] ([A-Z]+)/g)].map((m) => m[1]);
    expect(shown.slice(-4)).toEqual(['PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
  }, 40_000);

  test('eb offers / accept / watch / get, and a failing run exits non-zero', async () => {
    const offers = await runCli(['offers', requestFile({ SIMULATED_EXIT_CODE: '4' })]);
    expect(offers.code).toBe(0);
    const uuid = /^ {2}([0-9a-f-]{36}) /m.exec(offers.out)![1]!;
    // The answer is the execution as it is now: a quick worker may already have moved it on.
    expect((await runCli(['accept', uuid])).out).toMatch(new RegExp(`execution ${uuid}: (ACCEPTED|WAITING|PREPARING)`));
    const watched = await runCli(['watch', uuid, '--timeout', '30']);
    expect(watched.code).toBe(1);
    expect(watched.out).toMatch(/FAILED/);
    expect(watched.out).toMatch(/exited with code 4/);
    expect((await runCli(['get', uuid, '--json'])).out).toContain('"phase": "FAILED"');
  }, 40_000);

  test('eb offers on a request that gets NO prints the messages and exits 1; usage errors exit 2', async () => {
    const f = join(tmpdir(), `eb-bad-${randomUUID()}.yaml`);
    writeFileSync(f, yamlRequest().replace('digest: "sha256:0123012301230123012301230123012301230123012301230123012301230123"', ''));
    const r = await runCli(['offers', f]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Missing value [executable.image.digest]');
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['get', randomUUID()])).err).toContain('404');
  });

  test('eb logs follows the output until the executable ends; --stderr; --no-follow prints what there is', async () => {
    const offers = await runCli(['offers', requestFile({ SIMULATED_STDOUT: 'first line\nsecond line\n', SIMULATED_STDERR: 'a warning\n', SIMULATED_RUN_MS: '1500' })]);
    const uuid = /^ {2}([0-9a-f-]{36}) /m.exec(offers.out)![1]!;
    await runCli(['accept', uuid]);
    const followed = await runCli(['logs', uuid, '--timeout', '30']);
    expect(followed).toEqual({ code: 0, out: 'first line\nsecond line\n', err: '' });
    const client = new BrokerClient({ baseUrl: base, token: TOKEN });
    expect((await client.get(uuid)).phase).toMatch(/RELEASING|COMPLETED/);
    expect(await runCli(['logs', uuid, '--stderr', '--no-follow'])).toEqual({ code: 0, out: 'a warning\n', err: '' });
    expect((await client.output(uuid)).complete).toBe(true);
  }, 40_000);

  test('eb load prints a summary table', async () => {
    const r = await runCli(['load', requestFile(), '--count', '12', '--concurrency', '4', '--timeout', '60']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/load: 12 executions in [\d.]+ s; [\d.]+ offers\/s, [\d.]+ accepts\/s; 0 errors/);
    expect(r.out).toContain('final phase: COMPLETED 12');
    expect(r.out).toMatch(/offer latency\s+12\s+\d+\s+\d+\s+\d+/);
    expect(r.out).toMatch(/accept -> COMPLETED\s+12/);
  }, 60_000);
});
