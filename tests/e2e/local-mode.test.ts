import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, readRequest, redisUrl, until } from '../support/env.js';
import { writeStaticTokens } from '../support/auth.js';

// `scripts/start-local.sh` as the README runs it (setup skipped: scripts/test.sh has done it), on ports
// of its own: HAProxy in front of supervised services; a killed service comes back by itself.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const state = mkdtempSync(join(tmpdir(), 'eb-local-mode-'));
let script: ChildProcess;
let output = '';
let base = '';

const listens = (port: number) => new Promise<boolean>((resolve) => {
  const srv = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
});
/** Five free ports in a row: start-local.sh takes EB_PORT and the four after it. */
async function freeRun(): Promise<number> {
  for (;;) {
    const start = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 3, 4].map((i) => listens(start + i)));
    if (free.every(Boolean)) return start;
  }
}
const pidOf = (name: string) => Number(readFileSync(join(state, 'run', `${name}.pid`), 'utf8'));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

beforeAll(async () => {
  const port = await freeRun();
  base = `http://127.0.0.1:${port}`;
  script = spawn('bash', [`${root}scripts/start-local.sh`], {
    cwd: root,
    env: {
      ...process.env, EB_SKIP_SETUP: '1', EB_PORT: String(port), EB_LOCAL_STATE: state,
      DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'local-user' } }),
      EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: `local-${randomUUID().slice(0, 8)}`, EB_QUEUE_PREFIX: `local-${randomUUID().slice(0, 8)}`,
      EB_SIM_PREPARE: '300', EB_SIM_RUN: '300', EB_SIM_RELEASE: '100', EB_PREPARE_ESTIMATE: 'PT1S', EB_RELEASE_ESTIMATE: 'PT1S',
      EB_POLL_MIN: '50', EB_POLL_MAX: '200', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  script.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  script.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  await until(async () => {
    if (script.exitCode !== null) throw new Error(`start-local.sh exited with ${script.exitCode}: ${output}`);
    return output.includes('Execution Broker ready at');
  }, 60_000, 100);
}, 90_000);

afterAll(async () => {
  if (script.exitCode === null) {
    script.kill('SIGTERM');
    await new Promise((r) => script.once('exit', r));
  }
  rmSync(state, { recursive: true, force: true });
});

test('prints the base URL; says the simulated platform runs nothing, and so does each execution', async () => {
  expect(output).toContain(`Execution Broker ready at ${base} (platform: simulated`);
  expect(output).toMatch(/EB_PLATFORM=simulated: executions run nothing for real/);
  const created = await fetch(`${base}/offersets`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH },
    body: JSON.stringify(await readRequest('execution-request-docker-minimal.json')),
  });
  const uuid = (await created.json() as { offers: { meta: { uuid: string } }[] }).offers[0]!.meta.uuid;
  const accepted = await fetch(`${base}/executions/${uuid}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH },
    body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }),
  });
  expect(accepted.status).toBe(200);
  type Execution = { phase: string; executable: { meta: { messages?: { kind: string; level: string; message: string }[] } } };
  const done = await until(async () => {
    const e = await (await fetch(`${base}/executions/${uuid}`, { headers: { Prefer: 'wait=5', ...AUTH } })).json() as Execution;
    return e.phase === 'COMPLETED' ? e : undefined;
  }, 30_000, 10);
  expect(done.executable.meta.messages).toContainEqual(expect.objectContaining({ kind: 'urn:simulated-platform', level: 'WARN', message: expect.stringMatching(/nothing really runs/) }));
}, 40_000);

test('a SIGKILLed service is started again by its supervisor and serves through the load balancer', async () => {
  const killed = pidOf('offerset-api');
  process.kill(killed, 'SIGKILL');
  const restarted = await until(async () => {
    const pid = pidOf('offerset-api');
    if (pid === killed) return undefined;
    const r = await fetch(`${base}/openapi.json`).catch(() => undefined);
    return r?.status === 200 ? pid : undefined;
  }, 20_000, 100);
  expect(alive(restarted)).toBe(true);
  expect(readFileSync(join(state, 'logs', 'offerset-api.log'), 'utf8')).toMatch(/\[supervisor\] offerset-api exited with status 137/);
}, 30_000);

test('SIGTERM stops every process it started', async () => {
  const pids = ['offerset-api', 'execution-api', 'platform-worker', 'load-balancer'].map(pidOf);
  expect(pids.every(alive)).toBe(true);
  script.kill('SIGTERM');
  const code = await new Promise((r) => script.once('exit', r));
  expect(code).toBe(0);
  expect(pids.filter(alive)).toEqual([]);
}, 90_000);
