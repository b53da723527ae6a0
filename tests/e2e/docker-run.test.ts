import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { databaseUrl, freePort, readRequest, redisUrl } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';

const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
import { TEST_IMAGE, ensureTestImage } from '../support/docker-image.js';

// The whole broker on the Docker platform, as `scripts/start-local.sh` runs it where an engine answers.
const services: Service[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'eb-e2e-docker-'));
let offersUrl = '';
let imageId = '';

beforeAll(async () => {
  imageId = ensureTestImage();
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'e2e-user' } }), EB_QUEUE_PREFIX: `e2e-docker-${randomUUID().slice(0, 8)}`,
    EB_PLATFORM: 'docker', EB_PLATFORM_NAME: `docker-${randomUUID().slice(0, 8)}`, EB_DOCKER_DATA_DIR: dataDir, EB_DOCKER_PULL: 'false',
    EB_PREPARE_ESTIMATE: 'PT5S', EB_RELEASE_ESTIMATE: 'PT5S', EB_POLL_MIN: '100', EB_POLL_MAX: '500',
    // The test's own file server is on loopback, which the stager refuses unless the operator allows it.
    EB_EGRESS_ALLOW: '127.0.0.1',
  };
  services.push(await startService('offerset-api', os, env), await startService('execution-api', ex, env), await startService('platform-worker', wk, env));
  offersUrl = `${services[0]!.url}/offersets`;
}, 60_000);

afterAll(async () => {
  for (const s of services) await stopService(s);
  rmSync(dataDir, { recursive: true, force: true });
});

test('a Docker request through the APIs runs as a container and completes', async () => {
  const request = {
    executable: { kind: Kinds.dockerContainer, meta: { name: 'hello' }, image: { locations: [TEST_IMAGE], digest: imageId }, command: ['sh', '-c', 'echo hello from docker'] },
    compute: { kind: Kinds.simpleCompute, cores: { min: 1, max: 2 }, memory: { min: 1, max: 1 } },
    schedule: { requested: { duration: 'PT2M' } },
  };
  const set = await (await fetch(offersUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH }, body: JSON.stringify(request) })).json() as { result: string; offers: { meta: { uuid: string } }[] };
  expect(set.result).toBe('YES');
  const exec = `${services[1]!.url}/executions/${set.offers[0]!.meta.uuid}`;
  const accepted = await fetch(exec, { method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }) });
  expect(accepted.status).toBe(200);
  let body: { phase: string; executable: { meta: { messages?: { kind: string; values: Record<string, string> }[] } } } | undefined;
  for (let i = 0; i < 20; i++) {
    body = await (await fetch(exec, { headers: { Prefer: 'wait=5', ...AUTH } })).json() as typeof body;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(body!.phase)) break;
  }
  expect(body!.phase).toBe('COMPLETED');
  expect(body!.executable.meta.messages?.find((m) => m.kind === 'urn:exit-code')?.values.log).toContain('hello from docker');
  expect(readdirSync(dataDir)).toEqual([]);
}, 90_000);

test('data without storage (the upstream example): staged into a storage made for it, mounted by its UUID', async () => {
  const payload = `payload-${randomUUID()}\n`;
  const files = createServer((req, res) => {
    if (req.url === '/data/input.dat') { res.writeHead(200, { 'content-length': Buffer.byteLength(payload) }); res.end(payload); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  try {
    const request = await readRequest('execution-request-http-data-volume.json');
    request.executable.image = { locations: [TEST_IMAGE], digest: imageId };
    request.executable.command = ['sh', '-c', 'cat /input/input.dat; ls /input'];
    request.data[0].location = `http://127.0.0.1:${(files.address() as AddressInfo).port}/data/input.dat`;
    request.schedule = { requested: { duration: 'PT2M' } };
    const set = await (await fetch(offersUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH }, body: JSON.stringify(request) })).json() as {
      result: string; offers: { meta: { uuid: string }; storage: { meta: { uuid: string } }[]; data: { storage: string; meta: { uuid: string } }[] }[];
    };
    expect(set.result).toBe('YES');
    const offer = set.offers[0]!;
    expect(offer.data[0]!.storage).toBe(offer.storage[0]!.meta.uuid);
    const exec = `${services[1]!.url}/executions/${offer.meta.uuid}`;
    await fetch(exec, { method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body: JSON.stringify({ kind: 'uri:enum-value-update', path: '/phase', value: 'ACCEPTED' }) });
    let body: { phase: string; executable: { meta: { messages?: { kind: string; values: Record<string, string> }[] } } } | undefined;
    for (let i = 0; i < 20; i++) {
      body = await (await fetch(exec, { headers: { Prefer: 'wait=5', ...AUTH } })).json() as typeof body;
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(body!.phase)) break;
    }
    expect(body!.phase).toBe('COMPLETED');
    const log = body!.executable.meta.messages?.find((m) => m.kind === 'urn:exit-code')?.values.log;
    expect(log).toContain(payload.trim());
    expect(readdirSync(dataDir)).toEqual([]);
  } finally {
    files.close();
  }
}, 90_000);

test('the Docker platform answers NO for executables it cannot run', async () => {
  const res = await fetch(offersUrl, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH },
    body: JSON.stringify({ executable: { kind: Kinds.jupyterNotebook, location: 'https://example.org/n.ipynb' } }),
  });
  const set = await res.json() as { result: string; meta: { messages: { kind: string }[] } };
  expect(set.result).toBe('NO');
  expect(set.meta.messages[0]!.kind).toBe('urn:not-supported');
});
