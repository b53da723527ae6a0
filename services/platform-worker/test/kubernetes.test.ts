import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { Kinds } from '@eb/schema';
import { extendAvailable, findExecution, readOutput } from '@eb/db';
import { applyClientUpdate, egressPolicy, renderExecution } from '@eb/core';
import { quietLogger, until } from '@eb/tests/support/env.js';
import { storeOfferSet, type OfferSpec } from '@eb/tests/support/offers.js';
import { startFakeKubernetes, type FakeKubernetes } from '@eb/tests/support/fake-kubernetes.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { KubernetesPlatform } from '../src/platforms/kubernetes/index.js';
import { LABEL_EXECUTION } from '../src/platforms/kubernetes/objects.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { STAGING_SCRIPT } from '../src/platforms/kubernetes/staging-script.js';

// The real @kubernetes/client-node against a small API server made in the test (no cluster here).
let h: Harness;
let api: FakeKubernetes;
let adapter: KubernetesPlatform;

beforeAll(async () => {
  api = await startFakeKubernetes({ token: 'sa-token', startMs: 150, runMs: 250 });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'worker', token: 'sa-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'worker', namespace: 'eb-executions' }],
    currentContext: 'fake',
  });
  adapter = new KubernetesPlatform(kc, { namespace: 'eb-executions', stagerImage: 'busybox:1.36', waitForBound: true, accessUrlTemplate: 'https://k8s.example.org/{namespace}/{service}:{port}{path}', staging: { ...NO_STAGING, policy: egressPolicy('127.0.0.1') }, notebookImage: 'eb-local/notebook:test' });
  h = await startHarness(adapter);
});

afterAll(async () => {
  await h.stop();
  await api.close();
});

const exe = (args: string[], extra: Record<string, unknown> = {}) => ({ image: { locations: ['registry.example.org/astro/tool:1'], digest: 'sha256:abc' }, command: args, environment: { MODE: 'test' }, ...extra });

const run = (spec: OfferSpec) => h.run({ cores: 2, memoryGib: 3, ...spec });
const ended = (uuid: string) => h.ended(uuid);

const leftFor = (uuid: string) => ['Pod', 'Job', 'Service', 'PersistentVolumeClaim'].flatMap((k) => api.objects(k)).filter((o) => o.metadata.labels?.[LABEL_EXECUTION] === uuid);
const posted = (kind: string, uuid: string) => api.requests.filter((r) => r.method === 'POST' && r.body?.kind === kind && r.body.metadata.labels?.[LABEL_EXECUTION] === uuid).map((r) => r.body);

describe('Kubernetes platform', () => {
  test('batch: a claim, a staging Job into it, then a Job with the offer\'s requests and limits; all deleted by label', async () => {
    const uuid = await run({
      executable: exe(['sh', '-c', 'md5sum /input/data.bin']),
      extra: [
        { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 5, max: 5 } } },
        { role: 'data', name: 'input', kind: Kinds.simpleData, spec: { location: 'http://127.0.0.1:9/data.bin', storage: 'work', checksum: { type: 'md5', value: 'abc' } } },
        { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'input' } },
      ],
    });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    const [claim] = posted('PersistentVolumeClaim', uuid);
    expect(claim.spec.resources.requests.storage).toBe('5Gi');
    const jobs = posted('Job', uuid);
    expect(jobs).toHaveLength(2);
    const [staging, batch] = jobs;
    // Everything the Job works on is in its environment; its program is the broker's fixed text.
    const stage = staging.spec.template.spec.containers[0];
    expect(stage.env).toEqual([
      { name: 'EB_COUNT', value: '1' }, { name: 'EB_URL_0', value: 'http://127.0.0.1:9/data.bin' }, { name: 'EB_FILE_0', value: 'data.bin' },
      { name: 'EB_MD5_0', value: 'abc' },
    ]);
    expect(stage.command).toEqual(['sh', '-c', STAGING_SCRIPT]);
    expect(staging.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    const c = batch.spec.template.spec.containers[0];
    expect(c.image).toBe('registry.example.org/astro/tool@sha256:abc');
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '3Gi' }, limits: { cpu: '2', memory: '3Gi' } });
    expect(c.args).toEqual(['sh', '-c', 'md5sum /input/data.bin']);
    expect(c.env).toContainEqual({ name: 'MODE', value: 'test' });
    expect(c.volumeMounts).toEqual([{ name: 'v0', mountPath: '/input', readOnly: true }]);
    expect(batch.spec.template.spec.volumes[0].persistentVolumeClaim).toEqual({ claimName: claim.metadata.name, readOnly: true });
    // The staging job was created before the executable's job, which waited for it.
    const order = api.requests.filter((q) => q.method === 'POST' && q.body?.metadata?.labels?.[LABEL_EXECUTION] === uuid).map((q) => q.body.metadata.name);
    expect(order.indexOf(staging.metadata.name)).toBeLessThan(order.indexOf(batch.metadata.name));
    expect(messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')!.values!.log).toContain('md5sum /input/data.bin');
    expect(leftFor(uuid)).toEqual([]);
  }, 40_000);

  test('hostile staging: a metadata address is refused before any Job exists; a name with shell text stays data', async () => {
    const refused = await run({
      executable: exe(['true']),
      extra: [{ role: 'data', name: 'input', kind: Kinds.simpleData, spec: { location: 'http://169.254.169.254/latest/meta-data/' } }],
    });
    const r = await ended(refused);
    expect(r.execution.phase).toBe('FAILED');
    expect(JSON.stringify(r.execution.messages)).toContain('169.254.169.254 is in a network the broker does not fetch from');
    expect(posted('Job', refused)).toEqual([]);

    const named = await run({
      executable: exe(['true']),
      extra: [{ role: 'data', name: '"; rm -rf / #$(reboot)', kind: Kinds.simpleData, spec: { location: 'https://data.example.org/' } }],
    });
    await ended(named);
    const [staging] = posted('Job', named);
    const container = staging.spec.template.spec.containers[0];
    expect(container.command[2]).not.toContain('rm -rf');
    expect(container.env).toContainEqual({ name: 'EB_FILE_0', value: 'rm_-rf_reboot_' });
  }, 40_000);

  test('references by UUID (as offers carry them): data staged into the storage made for it, mounted from that claim', async () => {
    const [storage, data] = [randomUUID(), randomUUID()];
    const uuid = await run({
      executable: exe(['sh', '-c', 'cat /input/in.dat']),
      extra: [
        { uuid: storage, role: 'storage', name: 'in-storage', kind: Kinds.simpleStorage, spec: { size: { min: 7, max: 7 }, data: [data] } },
        { uuid: data, role: 'data', name: 'in', kind: Kinds.simpleData, spec: { location: 'http://127.0.0.1:9/in.dat', storage } },
        { role: 'volume', name: 'v', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: data } },
      ],
    });
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
    const claims = posted('PersistentVolumeClaim', uuid);
    expect(claims).toHaveLength(1);
    expect(claims[0].spec.resources.requests.storage).toBe('7Gi');
    const [staging, batch] = posted('Job', uuid);
    expect(staging.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(claims[0].metadata.name);
    expect(batch.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(claims[0].metadata.name);
    expect(leftFor(uuid)).toEqual([]);
    // Schema 1.0.8 labels: the service's on both; the staging job's role is data-download.
    expect(staging.metadata.labels).toMatchObject({ 'calycopis-broker-session-uid': uuid, 'calycopis-broker-resource-uid': data, 'calycopis-broker-resource-kind': 'simple-data-resource', 'calycopis-broker-container-role': 'data-download' });
    expect(batch.spec.template.metadata.labels).toMatchObject({ 'calycopis-broker-container-role': 'execution', 'calycopis-broker-resource-kind': 'docker-container' });
  }, 40_000);

  test('labels: the client\'s on the pod beside the service\'s', async () => {
    const uuid = await run({ interactive: true, executable: exe(['serve'], { labels: { team: 'radio', 'example.org/run': '7' } }) });
    await h.inPhase(uuid, 'AVAILABLE');
    const [pod] = posted('Pod', uuid);
    expect(pod.metadata.labels).toMatchObject({ team: 'radio', 'example.org/run': '7', 'calycopis-broker-session-uid': uuid, 'calycopis-broker-container-role': 'execution' });
    await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    await ended(uuid);
  }, 40_000);

  test('interactive: a Pod and a Service; AVAILABLE when Ready, with its access URL; cancel deletes them', async () => {
    const uuid = await run({ interactive: true, executable: exe(['serve'], { network: { ports: [{ access: true, internal: { port: 8888 }, protocol: 'HTTP', path: 'lab' }] } }) });
    const available = await h.inPhase(uuid, 'AVAILABLE');
    const name = posted('Pod', uuid)[0].metadata.name;
    expect(posted('Service', uuid)[0].spec.ports[0].port).toBe(8888);
    expect(renderExecution(available, 'http://b').connectors?.[0]?.location).toBe(`https://k8s.example.org/eb-executions/${name}:8888/lab`);
    await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    expect((await ended(uuid)).execution.phase).toBe('CANCELLED');
    expect(leftFor(uuid)).toEqual([]);
  }, 40_000);

  test('output: the pod log is kept as stdout (read while it runs, and for good before the Job is deleted)', async () => {
    const uuid = await run({ interactive: true, executable: exe(['serve'], { environment: { FAKE_STDOUT: 'line one\nline two' } }) });
    const live = await until(async () => {
      const o = await readOutput(h.db.db, uuid, 'stdout');
      return o && !o.final ? o : undefined;
    }, 20_000, 50);
    expect(live.content.toString()).toContain('line one\nline two\n');
    await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: '/phase', value: 'CANCELLED' }, quietLogger);
    await ended(uuid);
    const out = (await readOutput(h.db.db, uuid, 'stdout'))!;
    expect(out.final).toBe(true);
    expect(out.content.toString()).toBe('started registry.example.org/astro/tool@sha256:abc\nargs: serve\nline one\nline two\n');
    expect(out.totalBytes).toBe(out.content.length);
    // A pod's log is one stream: there is no stderr apart from it.
    expect(await readOutput(h.db.db, uuid, 'stderr')).toBeUndefined();
    expect(api.requests.some((q) => q.path.includes('/log') && q.path.includes('container=executable'))).toBe(true);
    expect(leftFor(uuid)).toEqual([]);
  }, 40_000);

  test('a failing Job: FAILED with its exit code and log; an image that cannot be pulled fails with the reason', async () => {
    const failing = await run({ executable: exe(['sh', '-c', 'exit 3']) });
    const missing = await run({ executable: { image: { locations: ['registry.example.org/missing:1'] }, command: ['true'] } });
    const [a, b] = await Promise.all([ended(failing), ended(missing)]);
    expect(a.execution.phase).toBe('FAILED');
    expect(messagesOf(a, 'executable').find((m) => m.kind === 'urn:exit-code')!.values).toMatchObject({ code: '3' });
    expect(b.execution.phase).toBe('FAILED');
    expect(messagesOf(b, 'executable')[0]!.message).toMatch(/could not be pulled \(ErrImagePull/);
    expect(leftFor(failing)).toEqual([]);
    expect(leftFor(missing)).toEqual([]);
  }, 40_000);

  test('data that cannot be staged fails the execution before the executable is created', async () => {
    const uuid = await run({
      executable: exe(['true']),
      extra: [{ role: 'data', name: 'input', kind: Kinds.simpleData, spec: { location: 'http://127.0.0.1:9/missing.bin' } }],
    });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    expect(messagesOf(r, 'data')[0]!.message).toMatch(/staging failed/);
    expect(posted('Job', uuid)).toHaveLength(1);
    expect(leftFor(uuid)).toEqual([]);
  }, 40_000);

  test('5xx answers are retried with backoff; a 4xx fails the execution with the API\'s message', async () => {
    api.failNext('POST', /\/jobs$/, 503, 2);
    const retried = await run({ executable: exe(['true']) });
    expect((await ended(retried)).execution.phase).toBe('COMPLETED');
    api.failNext('POST', /\/jobs$/, 403, 1);
    const refused = await run({ executable: exe(['true']) });
    const r = await ended(refused);
    expect(r.execution.phase).toBe('FAILED');
    expect(JSON.stringify(r.execution.messages)).toContain('Kubernetes API 403 on create job: injected 403');
  }, 40_000);

  test('creating again what exists (a step run twice) is not an error', async () => {
    const set = await storeOfferSet(h.db.db, h.platform, [{ executable: exe(['true']) }]);
    const record = (await findExecution(h.db.db, set.offers[0]!.uuid))!;
    const c = record.components.find((x) => x.role === 'executable')!;
    const ctx = { record, component: c, state: {}, stateOf: () => ({}) };
    await adapter.prepare(ctx);
    await expect(adapter.prepare(ctx)).resolves.toBeDefined();
    expect(api.requests.filter((q) => q.method === 'POST' && q.body?.metadata?.name === api.objects('Job').find((j) => j.metadata.labels[LABEL_EXECUTION] === record.execution.uuid)!.metadata.name)).toHaveLength(2);
    await adapter.release(ctx);
  });

  test('an interactive notebook: Jupyter in the notebook image, its token from a Secret, the access URL carrying it; all deleted on cancel', async () => {
    const uuid = await run({ interactive: true, executableKind: Kinds.jupyterNotebook, executable: { location: 'http://127.0.0.1:9/analysis.ipynb' }, outputs: ['stdout', 'notebook'] });
    const available = await h.inPhase(uuid, 'AVAILABLE');
    const [pod] = posted('Pod', uuid);
    const [secret] = posted('Secret', uuid);
    const token = secret.stringData['jupyter-token'] as string;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const c = pod.spec.containers[0];
    expect(c.image).toBe('eb-local/notebook:test');
    expect(c.command).toEqual(['jupyter', 'notebook', '--no-browser', '--allow-root', '--ip=0.0.0.0', '--port=8888', '--notebook-dir=/notebook']);
    expect(c.env).toContainEqual({ name: 'JUPYTER_TOKEN', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'jupyter-token' } } });
    expect(JSON.stringify(pod)).not.toContain(token);
    expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.spec.initContainers[0].env).toEqual([{ name: 'EB_NOTEBOOK_URL', value: 'http://127.0.0.1:9/analysis.ipynb' }]);
    expect(posted('Service', uuid)[0].spec.ports[0].port).toBe(8888);
    expect(renderExecution(available, 'http://b').connectors?.find((x) => x.protocol === 'HTTP' && x.location?.includes(':8888'))?.location)
      .toBe(`https://k8s.example.org/eb-executions/${pod.metadata.name}:8888/notebooks/input.ipynb?token=${token}`);
    await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    expect((await ended(uuid)).execution.phase).toBe('CANCELLED');
    expect(api.objects('Secret').filter((o) => o.metadata.labels?.[LABEL_EXECUTION] === uuid)).toEqual([]);
    expect(leftFor(uuid)).toEqual([]);
  }, 40_000);
});

describe('extending a running batch Job', () => {
  test('a longer available duration moves the Job\'s activeDeadlineSeconds on (JSON Patch)', async () => {
    // A cluster whose jobs run long enough to be extended while they run.
    const slow = await startFakeKubernetes({ token: 'sa-token', startMs: 100, runMs: 8000 });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: slow.url, skipTLSVerify: true }], users: [{ name: 'worker', token: 'sa-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'worker', namespace: 'eb-executions' }], currentContext: 'fake',
    });
    const slowAdapter = new KubernetesPlatform(kc, { namespace: 'eb-executions', stagerImage: 'busybox:1.36', waitForBound: true, accessUrlTemplate: 'https://k8s.example.org/{namespace}/{service}:{port}{path}', staging: { ...NO_STAGING, policy: egressPolicy('127.0.0.1') } });
    const hs = await startHarness(slowAdapter);
    try {
      const uuid = await hs.run({ durationMs: 60_000, executable: exe(['sleep', '8']) });
      await hs.inPhase(uuid, 'AVAILABLE', 20_000);
      const created = slow.requests.find((r) => r.method === 'POST' && r.body?.kind === 'Job' && r.body.metadata.labels?.[LABEL_EXECUTION] === uuid)!;
      expect(created.body.spec.activeDeadlineSeconds).toBe(60);
      expect((await extendAvailable(hs.db.db, uuid, 120_000, 'extended by the owner')).outcome).toBe('extended');
      const patched = await until(async () => slow.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`/jobs/${created.body.metadata.name}`)), 10_000, 100);
      expect(patched.body).toEqual([{ op: 'replace', path: '/spec/activeDeadlineSeconds', value: 120 }]);
      await hs.ended(uuid, 30_000);
    } finally {
      await hs.stop();
      await slow.close();
    }
  }, 60_000);
});

