import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { databaseUrl, freePort, redisUrl } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { startLoadBalancer } from '../support/load-balancer.js';
import { writeStaticTokens } from '../support/auth.js';
import { ensureNotebookImage } from '../support/notebook-image.js';
import { md5Notebook } from '../support/notebooks.js';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../support/s3-server.js';

// The seeds' scenario through the whole broker as a client sees it: a JupyterNotebook asked for at the
// load balancer (HAProxy), with an S3 object (a real S3 server, s3rver) staged beside it on the Docker
// platform; the notebook computes the object's MD5 headless, and its owner downloads the executed
// notebook through its connector. Nobody else can.
const TOKEN = `t-${randomUUID()}`;
const OTHER = `o-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const cube = randomBytes(1024 * 1024 + 3);
const cubeMd5 = createHash('md5').update(cube).digest('hex');
const services: Service[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'eb-e2e-notebook-'));
let s3: TestS3;
let files: Server;
let filesUrl = '';
let base = '';

beforeAll(async () => {
  const image = ensureNotebookImage();
  s3 = await startS3(['survey']);
  await s3.put('survey', 'runs/2026/cube.fits', cube);
  files = createServer((req, res) => {
    if (req.url === '/md5.ipynb') { res.writeHead(200, { 'content-type': 'application/x-ipynb+json' }); res.end(md5Notebook('/input/cube.fits')); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `e2e-nb-${randomUUID().slice(0, 8)}`,
    EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'astronomer' }, [OTHER]: { subject: 'someone-else' } }),
    EB_PLATFORM: 'docker', EB_PLATFORM_NAME: `docker-nb-${randomUUID().slice(0, 8)}`, EB_DOCKER_DATA_DIR: dataDir, EB_DOCKER_PULL: 'false',
    EB_NOTEBOOK_IMAGE: image, EB_PREPARE_ESTIMATE: 'PT10S', EB_RELEASE_ESTIMATE: 'PT5S', EB_POLL_MIN: '100', EB_POLL_MAX: '500',
    // The operator's S3 service (credentials stay with the workers) and the loopback servers allowed.
    EB_DATA_SOURCES: JSON.stringify({ s3: [{ name: 'survey-s3', endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS }] }),
    EB_EGRESS_ALLOW: `127.0.0.1:${s3.port},${new URL(filesUrl).host}`,
  };
  services.push(await startService('offerset-api', os, env), await startService('execution-api', ex, env), await startService('platform-worker', wk, env));
  const lb = await startLoadBalancer({ offersets: [services[0]!.url], executions: [services[1]!.url] });
  services.push(lb);
  base = lb.url;
}, 900_000);

afterAll(async () => {
  for (const s of services.reverse()) await stopService(s);
  await s3?.close();
  await new Promise((r) => files?.close(r));
  // A run that failed may leave its storage mounted until the worker's release: its failure says more.
  try { rmSync(dataDir, { recursive: true, force: true }); } catch { /* see above */ }
});

type Execution = {
  phase: string;
  connectors?: { location: string; protocol?: string }[];
  executable: { meta: { messages?: { kind: string; message: string }[] } };
  data?: { meta: { messages?: { kind: string; message: string }[] } }[];
};

async function waitForEnd(url: string): Promise<Execution> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const e = await (await fetch(url, { headers: { Prefer: 'wait=10', ...AUTH } })).json() as Execution;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.phase) || Date.now() > deadline) return e;
  }
}

test('a notebook with S3 data, asked for at the load balancer: its MD5 is in the executed notebook the owner downloads', async () => {
  const request = {
    // Headless (a broker extension): a notebook is otherwise a session.
    executable: { kind: Kinds.jupyterNotebook, meta: { name: 'md5' }, location: `${filesUrl}/md5.ipynb`, interactive: false },
    compute: {
      kind: Kinds.simpleCompute, cores: { min: 1, max: 1 }, memory: { min: 1, max: 1 },
      volumes: [{ kind: Kinds.simpleVolumeMount, path: '/input', mode: 'READONLY', resource: 'cube' }],
    },
    data: [{ kind: Kinds.s3Data, meta: { name: 'cube' }, endpoint: s3.endpoint, bucket: 'survey', object: 'runs/2026/cube.fits' }],
    schedule: { requested: { duration: 'PT5M' } },
  };
  const asked = await fetch(`${base}/offersets`, { method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH }, body: JSON.stringify(request) });
  const set = await asked.json() as { result: string; offers: { meta: { uuid: string } }[]; meta: { messages?: unknown[] } };
  expect(set.result).toBe('YES');
  const url = `${base}/executions/${set.offers[0]!.meta.uuid}`;
  // Someone else cannot accept it.
  const foreign = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${OTHER}` }, body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }) });
  expect([403, 404]).toContain(foreign.status);
  const accepted = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }) });
  expect(accepted.status).toBe(200);
  const ended = await waitForEnd(url);
  expect({ phase: ended.phase, messages: ended.executable.meta.messages?.map((m) => m.message) }).toMatchObject({ phase: 'COMPLETED' });
  expect(JSON.stringify(ended.data?.[0]?.meta.messages ?? [])).toContain('urn:data-staged');
  const connector = ended.connectors!.find((c) => c.location.endsWith('/jupyter/notebook-get'))!;
  expect(connector.location.startsWith(base)).toBe(true);
  const download = await fetch(connector.location, { headers: AUTH });
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toContain('application/x-ipynb+json');
  const nb = await download.json() as { cells: { id: string; outputs: { data?: Record<string, unknown> }[] }[] };
  const result = nb.cells.find((c) => c.id === 'result')!.outputs[0]!.data!['text/plain'];
  expect([result].flat().join('')).toBe(`'${cubeMd5}'`);
  expect((await fetch(connector.location, { headers: { Authorization: `Bearer ${OTHER}` } })).status).toBeGreaterThanOrEqual(403);
  expect(readdirSync(dataDir)).toEqual([]);
}, 300_000);
