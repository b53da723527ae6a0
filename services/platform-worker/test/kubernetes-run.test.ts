import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Kinds } from '@eb/schema';
import { readOutput, transferHistory, type ExecutionRecord } from '@eb/db';
import { egressPolicy } from '@eb/core';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { ensureNotebookImage } from '@eb/tests/support/notebook-image.js';
import { md5Notebook } from '@eb/tests/support/notebooks.js';
import { startFakeKubernetes, type FakeKubernetes } from '@eb/tests/support/fake-kubernetes.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { KubernetesPlatform } from '../src/platforms/kubernetes/index.js';
import { LABEL_EXECUTION } from '../src/platforms/kubernetes/objects.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { NO_SOURCES } from '../src/staging/sources.js';

// The Kubernetes platform with pods that really run (the stand-in API's kubelet runs them as Docker
// containers): SKAO data staged by a staging Job whose storage token comes from a Secret, then a
// notebook Job in the notebook image computing the MD5 of what was staged.
const product = randomBytes(600_000);
const productMd5 = createHash('md5').update(product).digest('hex');
const DM_TOKEN = 'dm-token';
const STORAGE_TOKEN = 'storage-token-7c1e';
let server: Server;
let base = '';
const storageAuth: (string | undefined)[] = [];
let api: FakeKubernetes;
let h: Harness;

beforeAll(async () => {
  ensureTestImage();
  const notebookImage = ensureNotebookImage();
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (body: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (path === '/md5.ipynb') { res.writeHead(200); res.end(md5Notebook('/input/cube.fits')); return; }
    if (path === '/plain/cube.fits') { res.writeHead(200, { 'content-length': product.length }); res.end(product); return; }
    if (path.startsWith('/storage/')) {
      storageAuth.push(req.headers.authorization);
      if (req.headers.authorization !== `Bearer ${STORAGE_TOKEN}`) { res.writeHead(401); res.end(); return; }
      res.writeHead(200, { 'content-length': product.length }); res.end(product); return;
    }
    if (req.headers.authorization !== `Bearer ${DM_TOKEN}`) { res.writeHead(401); res.end(); return; }
    if (path === '/api/v1/data/locate/testing/cube.fits') return json([{ identifier: 'LOCAL_RSE', replicas: [`${base}/storage/testing/cube.fits`], associated_storage_area_id: 'area-1' }]);
    if (path === '/api/v1/data/download/area-1/testing/cube.fits') return json({ access_token: STORAGE_TOKEN });
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api = await startFakeKubernetes({ token: 'sa-token', runPods: true, bindMs: 0 });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }], users: [{ name: 'worker', token: 'sa-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'worker', namespace: 'eb-executions' }], currentContext: 'fake',
  });
  const sources = { ...NO_SOURCES, skao: [{ name: 'srcnet-dm', endpoint: `${base}/api/v1`, auth: { token: DM_TOKEN } }] };
  const adapter = new KubernetesPlatform(kc, {
    namespace: 'eb-executions', stagerImage: TEST_IMAGE, notebookImage, waitForBound: false, accessUrlTemplate: 'http://{service}:{port}{path}',
    staging: { ...NO_STAGING, policy: egressPolicy(new URL(base).host), sources, attempts: 2 },
  });
  h = await startHarness(adapter, { timing: { pollMinMs: 100, pollMaxMs: 500 } });
}, 900_000);

afterAll(async () => {
  await h.stop();
  await api.close();
  await new Promise((r) => server.close(r));
});

const notebookRun = (data: { kind: string; spec: Record<string, unknown> }, location = `${base}/md5.ipynb`) => h.run({
  executableKind: Kinds.jupyterNotebook, executable: { location }, outputs: ['stdout', 'notebook'], durationMs: 300_000,
  extra: [
    { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
    { role: 'data', name: 'cube', kind: data.kind, spec: { storage: 'work', ...data.spec } },
    { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
  ],
});
const posted = (kind: string, uuid: string) => api.requests.filter((r) => r.method === 'POST' && r.body?.kind === kind && r.body.metadata.labels?.[LABEL_EXECUTION] === uuid).map((r) => r.body);
const leftFor = (uuid: string) => ['Pod', 'Job', 'Secret', 'PersistentVolumeClaim'].flatMap((k) => api.objects(k)).filter((o) => o.metadata.labels?.[LABEL_EXECUTION] === uuid);
const dataText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'data'));

describe('Kubernetes, pods really run', () => {
  test('hostile: a staged file whose MD5 is wrong fails its Job; a notebook at the metadata service fails before any pod', async () => {
    const wrong = await notebookRun({ kind: Kinds.simpleData, spec: { location: `${base}/plain/cube.fits`, checksum: { type: 'md5', value: '0'.repeat(32) } } });
    const metadata = await notebookRun({ kind: Kinds.simpleData, spec: { location: `${base}/plain/cube.fits` } }, 'http://169.254.169.254/latest/nb.ipynb');
    const [a, b] = await Promise.all([h.ended(wrong, 120_000), h.ended(metadata, 120_000)]);
    expect(a.execution.phase).toBe('FAILED');
    expect(dataText(a)).toContain('md5 checksum does not match');
    expect(b.execution.phase).toBe('FAILED');
    expect(JSON.stringify(b.components.find((c) => c.role === 'executable')!.messages)).toContain('169.254.169.254 is in a network the broker does not fetch from');
    expect(posted('Job', metadata).filter((j) => j.metadata.labels['calycopis-broker-container-role'] === 'execution')).toEqual([]);
    expect(leftFor(wrong)).toEqual([]);
  }, 180_000);

  test('SKAO data staged by a Job (token from a Secret), then the notebook computes its MD5; the executed notebook comes back from the log', async () => {
    const uuid = await notebookRun({ kind: Kinds.skaoData, spec: { skao: { namespace: 'testing', objectname: 'cube.fits', datasize: product.length } } });
    const r = await h.ended(uuid, 180_000);
    expect(r.execution.phase).toBe('COMPLETED');
    // The staging Job: the storage token only in a Secret, the program the broker's fixed text.
    const [secret] = posted('Secret', uuid);
    expect(secret.stringData).toEqual({ 'header-0': `Authorization: Bearer ${STORAGE_TOKEN}` });
    const staging = posted('Job', uuid).find((j) => j.metadata.labels['calycopis-broker-container-role'] === 'data-download');
    expect(JSON.stringify(staging)).not.toContain(STORAGE_TOKEN);
    expect(staging.spec.template.spec.containers[0].env).toContainEqual({ name: 'EB_HEADER_0', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'header-0' } } });
    expect(storageAuth).toContain(`Bearer ${STORAGE_TOKEN}`);
    expect((await transferHistory(h.db.db, ['srcnet-dm'])).get('srcnet-dm')?.count).toBeGreaterThanOrEqual(1);
    expect(messagesOf(r, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-staged', values: expect.objectContaining({ bytes: String(product.length) }) }));
    // The notebook ran in the notebook image on a read-only root.
    const job = posted('Job', uuid).find((j) => j.metadata.labels['calycopis-broker-container-role'] === 'execution');
    expect(job.spec.template.spec.containers[0].securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const executed = JSON.parse((await readOutput(h.db.db, uuid, 'notebook'))!.content.toString()) as { cells: { id: string; outputs: { data?: Record<string, unknown> }[] }[] };
    const result = executed.cells.find((c) => c.id === 'result')!.outputs[0]!.data!['text/plain'];
    expect([result].flat().join('')).toBe(`'${productMd5}'`);
    const stdout = (await readOutput(h.db.db, uuid, 'stdout'))!.content.toString();
    expect(stdout).toContain(`md5 ${productMd5}`);
    expect(stdout).not.toContain('eb-executed-notebook');
    expect(leftFor(uuid)).toEqual([]);
  }, 240_000);
});
