import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kinds } from '@eb/schema';
import { freePort, until } from '../support/env.js';
import { TEST_IMAGE, ensureTestImage } from '../support/docker-image.js';
import { requestCount } from '../support/metrics.js';

// The deployment as an operator runs it: scripts/build-images.sh builds every image (no registry),
// scripts/compose.sh starts docker-compose.yml as a project of its own on free loopback ports, and a
// real container goes offer -> accept -> COMPLETED through the load balancer; one offer-set replica
// is then SIGKILLed. Everything is torn down at the end (containers, networks, volumes, data).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const engine = dockerAnswers();
if (!engine) console.warn('compose test SKIPPED: no Docker engine answers (`docker info` failed); it needs one to build images and run the stack');
const suite = engine ? describe : describe.skip;

const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const project = `ebtest${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'eb-compose-'));
const settings = join(dir, 'compose.env');
const images = join(dir, 'images.env');
const executions: string[] = [];
let base = '';
let imageId = '';

const compose = (...args: string[]) => run('bash', [`${root}scripts/compose.sh`, ...args], {
  cwd: root, maxBuffer: 64 * 2 ** 20,
  env: { ...process.env, EB_COMPOSE_ENV: settings, EB_IMAGES_ENV: images, COMPOSE_PROJECT_NAME: project },
});
const docker = async (...args: string[]) => (await run('docker', args, { maxBuffer: 64 * 2 ** 20 })).stdout.trim();
const containerOf = (service: string) => docker('ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`);
/** A replica's own request counters, read inside its container (its port is not published). */
async function openapiServed(service: string): Promise<number> {
  const id = await containerOf(service);
  const text = await docker('exec', id, 'node', '-e', "fetch('http://127.0.0.1:8081/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))");
  return requestCount(text, 'GET', '/openapi.json');
}

type Execution = { phase: string; executable: { meta: { messages?: { kind: string; values?: Record<string, string> }[] } } };

async function requestOffer(command: string): Promise<string> {
  const res = await fetch(`${base}/offersets`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH },
    body: JSON.stringify({
      executable: { kind: Kinds.dockerContainer, meta: { name: 'compose' }, image: { locations: [TEST_IMAGE], digest: imageId }, command: ['sh', '-c', command] },
      compute: { kind: Kinds.simpleCompute, cores: { min: 1, max: 1 }, memory: { min: 1, max: 1 } },
      schedule: { requested: { duration: 'PT5M' } },
    }),
  });
  expect(res.status).toBe(200);
  const set = await res.json() as { result: string; offers: { meta: { uuid: string } }[] };
  expect(set.result).toBe('YES');
  return set.offers[0]!.meta.uuid;
}

async function accept(uuid: string): Promise<void> {
  const res = await fetch(`${base}/executions/${uuid}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH },
    body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }),
  });
  expect(res.status).toBe(200);
  executions.push(uuid);
}

const ended = (uuid: string) => until(async () => {
  const res = await fetch(`${base}/executions/${uuid}`, { headers: { Prefer: 'wait=10', ...AUTH } }).catch(() => undefined);
  const e = res?.ok ? await res.json() as Execution : undefined;
  return e && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.phase) ? e : undefined;
}, 120_000, 10);

const exitLog = (e: Execution) => e.executable.meta.messages?.find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';

suite('docker-compose.yml with the images of scripts/build-images.sh', () => {
  beforeAll(async () => {
    const started = Date.now();
    await run('bash', [`${root}scripts/build-images.sh`], { cwd: root, env: { ...process.env, EB_IMAGES_ENV: images }, maxBuffer: 64 * 2 ** 20 });
    const built = Date.now();
    imageId = ensureTestImage();
    const [http, admin, pg, redis, w1, w2] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    const tokens = join(dir, 'secrets', 'tokens.json');
    writeFileSync(tokens, JSON.stringify({ [TOKEN]: { subject: 'compose-user' } }));
    chmodSync(tokens, 0o444);
    writeFileSync(settings, [
      `POSTGRES_PASSWORD=${randomBytes(12).toString('hex')}`, `EB_CREDENTIALS_KEY=${randomBytes(32).toString('base64')}`,
      `EB_TOKENS_FILE=${tokens}`, `EB_HTTP_PORT=${http}`, `EB_LB_ADMIN_PORT=${admin}`, `EB_POSTGRES_PORT=${pg}`, `EB_REDIS_PORT=${redis}`,
      `EB_WORKER_1_PORT=${w1}`, `EB_WORKER_2_PORT=${w2}`, `EB_DOCKER_DATA_DIR=${join(dir, 'data')}`, 'LOG_LEVEL=warn',
      // Every offer set holds what it offers until it expires: room for all this test asks for.
      'EB_CAPACITY_CORES=64', 'EB_CAPACITY_MEMORY_GIB=256', '',
    ].join('\n'));
    const up = await compose('up', '-d', '--no-build');
    base = `http://127.0.0.1:${http}`;
    expect(up.stdout).toContain(`Execution Broker ready at ${base}`);
    expect(up.stdout).toContain('platform docker');
    console.info(`compose test: images ready in ${Math.round((built - started) / 1000)} s, stack up in ${Math.round((Date.now() - built) / 1000)} s`);
  }, 25 * 60_000);

  afterAll(async () => {
    const logs = await compose('logs', '--no-color', '--tail', '40').catch((e: { stdout?: string }) => e);
    if (process.env.EB_COMPOSE_TEST_LOGS) console.info(logs.stdout);
    await compose('down', '--volumes', '--remove-orphans', '--timeout', '10').catch((e) => console.warn(`compose down: ${String(e)}`));
    // Containers of executions that did not get released (a failed test), by their names.
    for (const uuid of executions) await docker('rm', '-f', `eb-${uuid}`).catch(() => undefined);
    const left = await Promise.all(['ps -a', 'network ls', 'volume ls'].map((what) => docker(...what.split(' '), '-q', '--filter', `label=com.docker.compose.project=${project}`)));
    rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual(['', '', '']);
  }, 120_000);

  test('a real container goes offer -> accept -> COMPLETED through the load balancer, on the Docker platform', async () => {
    const uuid = await requestOffer('echo hello from compose');
    await accept(uuid);
    const e = await ended(uuid);
    expect(e.phase).toBe('COMPLETED');
    expect(exitLog(e)).toContain('hello from compose');
    expect(e.executable.meta.messages?.some((m) => m.kind === 'urn:simulated-platform')).toBe(false);
    // Released: the worker removed its container.
    await expect(docker('inspect', `eb-${uuid}`)).rejects.toThrow();
  }, 180_000);

  test('an interactive container is AVAILABLE once its published port answers, at its access URL; then cancelled', async () => {
    const res = await fetch(`${base}/offersets`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH },
      body: JSON.stringify({
        executable: {
          kind: Kinds.dockerContainer, image: { locations: [TEST_IMAGE], digest: imageId },
          command: ['sh', '-c', 'sleep 1; mkdir -p /tmp/www && echo hello-interactive > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
          network: { ports: [{ access: true, internal: { port: 8080 }, protocol: 'HTTP' }] },
        },
      }),
    });
    const uuid = (await res.json() as { offers: { meta: { uuid: string } }[] }).offers[0]!.meta.uuid;
    await accept(uuid);
    type Available = { phase: string; connectors?: { location: string }[] };
    const available = await until(async () => {
      const e = await (await fetch(`${base}/executions/${uuid}`, { headers: { Prefer: 'wait=10', ...AUTH } })).json() as Available;
      if (['FAILED', 'CANCELLED', 'COMPLETED'].includes(e.phase)) throw new Error(`ended ${e.phase}`);
      return e.phase === 'AVAILABLE' ? e : undefined;
    }, 120_000, 10);
    // Its access URL, beside the output connectors (stdout-get, stderr-get) every Docker execution has.
    const location = available.connectors!.find((c) => !/\/docker\/std(out|err)-get$/.test(c.location))!.location;
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(location)).text()).toBe('hello-interactive\n');
    const cancel = await fetch(`${base}/executions/${uuid}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH },
      body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }),
    });
    expect(cancel.status).toBe(200);
    expect((await ended(uuid)).phase).toBe('CANCELLED');
    await until(async () => (await docker('inspect', `eb-${uuid}`).then(() => false, () => true)), 30_000, 200);
  }, 180_000);

  test('requests are spread over both offer-set replicas', async () => {
    const before = await Promise.all(['offerset-api-1', 'offerset-api-2'].map(openapiServed));
    for (let i = 0; i < 20; i++) expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
    const after = await Promise.all(['offerset-api-1', 'offerset-api-2'].map(openapiServed));
    const served = after.map((n, i) => n - before[i]!);
    expect(served[0]! + served[1]!).toBe(20);
    expect(Math.min(...served)).toBeGreaterThanOrEqual(5);
  }, 60_000);

  test('SIGKILLing one offer-set replica loses nothing: acknowledged offers stay, requests succeed, a running execution completes', async () => {
    const running = await requestOffer('sleep 6; echo survived the kill');
    await accept(running);
    const before = [running];
    for (let i = 0; i < 4; i++) before.push(await requestOffer(`echo offer ${i}`));
    const killed = await containerOf('offerset-api-1');
    await docker('kill', '--signal', 'KILL', killed);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await fetch(`${base}/openapi.json`)).status);
      const created = await fetch(`${base}/offersets`, {
        method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json', ...AUTH },
        body: JSON.stringify({ executable: { kind: Kinds.dockerContainer, image: { locations: [TEST_IMAGE], digest: imageId } } }),
      });
      statuses.push(created.status);
    }
    expect(statuses).toEqual(statuses.map((_s, i) => (i % 2 ? 303 : 200)));
    for (const uuid of before) {
      const res = await fetch(`${base}/executions/${uuid}`, { headers: AUTH });
      expect(res.status).toBe(200);
    }
    const e = await ended(running);
    expect(e.phase).toBe('COMPLETED');
    expect(exitLog(e)).toContain('survived the kill');
    // Started again, the replica is found (its name re-resolved) and back in rotation.
    await docker('start', killed);
    const back = await until(async () => {
      await fetch(`${base}/openapi.json`);
      return (await openapiServed('offerset-api-1').catch(() => 0)) > 0;
    }, 90_000, 200);
    expect(back).toBe(true);
  }, 240_000);

  test('the images run as a non-root user and hold compiled JavaScript only', async () => {
    const refs = Object.fromEntries(readFileSync(images, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
    for (const v of ['EB_OFFERSET_API_IMAGE', 'EB_EXECUTION_API_IMAGE', 'EB_PLATFORM_WORKER_IMAGE']) {
      const out = await docker('run', '--rm', '--entrypoint', 'sh', refs[v]!, '-c',
        'id -u; ls /app; find /app -name "*.ts" ! -name "*.d.ts" -path "*@eb*" | wc -l; find /app -name tsconfig.json -path "*@eb*" | wc -l; test -w /app && echo writable || echo read-only');
      expect(out.split('\n')).toEqual(['1000', 'dist', 'node_modules', 'package.json', '0', '0', 'read-only']);
    }
  }, 60_000);
});
