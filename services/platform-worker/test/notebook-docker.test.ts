import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { findExecution, readOutput, type ExecutionRecord } from '@eb/db';
import { applyClientUpdate, egressPolicy, renderExecution } from '@eb/core';
import { quietLogger } from '@eb/tests/support/env.js';
import { ensureNotebookImage } from '@eb/tests/support/notebook-image.js';
import { failingNotebook, md5Notebook } from '@eb/tests/support/notebooks.js';
import type { OfferSpec } from '@eb/tests/support/offers.js';
import { untilNothingLeft } from './nothing-left.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { LABEL_EXECUTION } from '../src/platforms/docker/labels.js';
import { NO_STAGING } from '../src/staging/settings.js';

// JupyterNotebook on the Docker platform, in the notebook image built from Debian packages: a real
// notebook computes the MD5 of staged data headless (nbclient), and an interactive one is served by
// Jupyter behind its token.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-notebook-test-'));
const payload = randomBytes(700_000);
const payloadMd5 = createHash('md5').update(payload).digest('hex');
let files: Server;
let base = '';
let h: Harness;
let docker: DockerPlatform;
const ours: string[] = [];

beforeAll(async () => {
  const image = ensureNotebookImage();
  files = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (body: string | Buffer, type = 'application/x-ipynb+json') => { res.writeHead(200, { 'content-type': type }); res.end(body); };
    if (path === '/md5.ipynb') return send(md5Notebook('/input/data.bin'));
    if (path === '/failing.ipynb') return send(failingNotebook());
    if (path === '/not-a-notebook.ipynb') return send('{"hello": "world"}');
    if (path === '/data.bin') return send(payload, 'application/octet-stream');
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, notebookImage: image, staging: { ...NO_STAGING, policy: egressPolicy(new URL(base).host), attempts: 2 } });
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 400 } });
}, 900_000);

afterEach(async () => {
  await untilNothingLeft(docker.docker, dataDir, ours.splice(0));
}, 60_000);

afterAll(async () => {
  await h.stop();
  await new Promise((r) => files.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const staged: OfferSpec['extra'] = [
  { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
  { role: 'data', name: 'input', kind: Kinds.simpleData, spec: { storage: 'work', location: '' } },
  { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
];
async function run(location: string, opts: { interactive?: boolean } = {}): Promise<string> {
  const extra = staged!.map((x) => (x.role === 'data' ? { ...x, spec: { ...x.spec, location: `${base}/data.bin` } } : x));
  const uuid = await h.run({ executableKind: Kinds.jupyterNotebook, executable: { location }, extra, outputs: ['stdout', 'stderr', 'notebook'], cores: 1, memoryGib: 1, ...opts });
  ours.push(uuid);
  return uuid;
}
const executed = async (uuid: string) => JSON.parse((await readOutput(h.db.db, uuid, 'notebook'))!.content.toString()) as { cells: { id: string; outputs: Record<string, unknown>[] }[] };
const exeText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'executable'));
// nbformat writes multi-line strings as lists of lines.
const text = (v: unknown) => (Array.isArray(v) ? v.join('') : v);

describe('JupyterNotebook on Docker', () => {
  test('hostile: a notebook at file:, at the metadata service, or not a notebook, fails before any container', async () => {
    const [file, metadata, notNotebook] = await Promise.all([
      run('file:///etc/passwd'), run('http://169.254.169.254/latest/notebook.ipynb'), run(`${base}/not-a-notebook.ipynb`),
    ].map(async (u) => h.ended(await u, 60_000)));
    for (const r of [file, metadata, notNotebook]) expect(r.execution.phase).toBe('FAILED');
    expect(exeText(file)).toContain('the scheme file: is not allowed');
    expect(exeText(metadata)).toContain('169.254.169.254 is in a network the broker does not fetch from');
    expect(exeText(notNotebook)).toContain('is not an nbformat 4 notebook');
  }, 60_000);

  test('batch: the notebook computes the MD5 of staged data headless; the executed notebook is kept as an output', async () => {
    const uuid = await run(`${base}/md5.ipynb`);
    const r = await h.ended(uuid, 120_000);
    expect(r.execution.phase).toBe('COMPLETED');
    const nb = await executed(uuid);
    const result = nb.cells.find((c) => c.id === 'result')!.outputs[0]!;
    expect(result.output_type).toBe('execute_result');
    expect(text((result.data as Record<string, unknown>)['text/plain'])).toBe(`'${payloadMd5}'`);
    const load = nb.cells.find((c) => c.id === 'load')!.outputs[0]!;
    expect(load).toMatchObject({ output_type: 'stream', name: 'stdout' });
    expect(text(load.text)).toBe(`read ${payload.length} bytes\n`);
    const out = (await readOutput(h.db.db, uuid, 'stdout'))!;
    expect(out.content.toString()).toContain(`md5 ${payloadMd5}\n`);
    expect((await readOutput(h.db.db, uuid, 'notebook'))!.final).toBe(true);
  }, 120_000);

  test('a cell that raises: FAILED with exit code 1, the executed notebook kept with its traceback', async () => {
    const uuid = await run(`${base}/failing.ipynb`);
    const r = await h.ended(uuid, 120_000);
    expect(r.execution.phase).toBe('FAILED');
    expect(messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')!.values).toMatchObject({ code: '1' });
    const nb = await executed(uuid);
    expect(text(nb.cells.find((c) => c.id === 'ok')!.outputs[0]!.text)).toBe('before the error\n');
    expect(nb.cells.find((c) => c.id === 'boom')!.outputs[0]).toMatchObject({ output_type: 'error', ename: 'ZeroDivisionError' });
    expect(nb.cells.find((c) => c.id === 'never')!.outputs).toEqual([]);
  }, 120_000);

  test('interactive: Jupyter serves the notebook behind the access URL\'s token, on a read-only root; cancel ends it', async () => {
    const uuid = await run(`${base}/md5.ipynb`, { interactive: true });
    const available = await h.inPhase(uuid, 'AVAILABLE', 120_000);
    const location = renderExecution(available, 'http://broker.test').connectors!.find((c) => c.protocol === 'HTTP' && c.location?.includes('/notebooks/'))!.location!;
    const url = new URL(location);
    expect(url.pathname).toBe('/notebooks/input.ipynb');
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const api = (t?: string) => fetch(`${url.origin}/api/contents/input.ipynb${t ? `?token=${t}` : ''}`);
    const withToken = await api(token);
    expect(withToken.status).toBe(200);
    expect(((await withToken.json()) as { content: { cells: unknown[] } }).content.cells).toHaveLength(3);
    expect((await api()).status).toBe(403);
    expect((await api('0'.repeat(48))).status).toBe(403);
    const [c] = await docker.docker.listContainers({ filters: { label: [`${LABEL_EXECUTION}=${uuid}`] } });
    const info = await docker.docker.getContainer(c!.Id).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.Config.Cmd!.join(' ')).not.toContain(token);
    expect((await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger)).outcome).toBe('applied');
    expect((await h.ended(uuid, 60_000)).execution.phase).toBe('CANCELLED');
    // The notebook as the session left it is kept.
    expect((await executed(uuid)).cells).toHaveLength(3);
    expect((await findExecution(h.db.db, uuid))!.execution.phase).toBe('CANCELLED');
  }, 180_000);
});
