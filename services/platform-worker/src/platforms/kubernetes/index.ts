import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Kinds, message, type DockerContainer, type DockerNetworkPort, type MessageItem } from '@eb/schema';
import { checkUrlStatically, resolveForFetch } from '@eb/core';
import type { ComponentRow } from '@eb/db';
import {
  PermanentPlatformError, type CapturedOutput, type ComponentContext, type ComponentStatus, type OutputStream, type OwnerToken, type PlatformAdapter, type StepOutput,
} from '../adapter.js';
import { tailOf } from '../output-tail.js';
import type { KubernetesSettings } from './config.js';
import { LABEL_COMPONENT, claimFor, executableJob, executablePod, executableService, notebookSecret, objectName, pvc, stagingJob, stagingSecret } from './objects.js';
import { notebookPorts } from './notebook.js';
import { unframe } from '../../notebooks/runner.js';
import { StagingFailed, planData } from '../../staging/stager.js';
import type { FetchPlan } from '../../staging/plan.js';

const GiB = 2 ** 30;

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

function reason(err: ApiException<unknown>): string {
  let body = err.body as unknown;
  if (typeof body === 'string') { try { body = JSON.parse(body); } catch { /* plain text */ } }
  const message = (body as { message?: string } | undefined)?.message;
  return message ?? (typeof body === 'string' ? body : err.message);
}

/**
 * The Kubernetes API's answer, with its errors sorted: 5xx and 429 are thrown as they are (the step is
 * retried with backoff), other 4xx fail the execution with the API's message. 409 on create means the
 * object is already there (a step run again), which is what we wanted.
 */
async function k8s<T>(what: string, call: () => Promise<T>, opts: { conflictOk?: boolean; notFound?: T } = {}): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    if (err.code === 409 && opts.conflictOk) return undefined;
    if (err.code === 404 && 'notFound' in opts) return opts.notFound;
    if (err.code >= 500 || err.code === 429) throw new Error(`Kubernetes API ${err.code} on ${what}: ${reason(err)}`);
    throw new PermanentPlatformError(`Kubernetes API ${err.code} on ${what}: ${reason(err)}`);
  }
}

/**
 * Runs executions on a Kubernetes cluster through @kubernetes/client-node: storage is a
 * PersistentVolumeClaim, each data resource is staged into its claim by a Job before the executable
 * starts, a batch executable is a Job and an interactive one a Pod with a Service; requests and limits
 * are the offer's cores and memory. Everything is labelled and released by label.
 */
export class KubernetesPlatform implements PlatformAdapter {
  readonly name = 'kubernetes';
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;

  constructor(kc: KubeConfig, private readonly s: KubernetesSettings, private readonly ownerToken: OwnerToken = async () => undefined) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
  }

  /** kubeconfig (KUBECONFIG or ~/.kube/config), or the in-cluster service account. */
  static fromDefault(s: KubernetesSettings, ownerToken?: OwnerToken): KubernetesPlatform {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesPlatform(kc, s, ownerToken);
  }

  private get ns() { return this.s.namespace; }

  /**
   * The staging Job fetches inside the cluster, out of the worker's reach: each URL is checked here, under
   * the same policy as the Docker stager. A name only the cluster's DNS knows cannot be checked here and is
   * let through: a NetworkPolicy on the namespace is the guard then (the Job resolves names again).
   */
  private async checkEgress(location: string): Promise<void> {
    const policy = this.s.staging.policy;
    await resolveForFetch(policy, checkUrlStatically(policy, location)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTFOUND' && err.code !== 'EAI_AGAIN') throw err;
    });
  }

  private isBatch(ctx: ComponentContext): boolean {
    return !ctx.record.execution.interactive;
  }

  async prepare(ctx: ComponentContext): Promise<StepOutput> {
    const { record, component: c } = ctx;
    const namespace = this.ns;
    switch (c.role) {
      case 'storage': {
        const size = (c.spec as { size?: { min?: number } }).size?.min ?? 1;
        await k8s('create claim', () => this.core.createNamespacedPersistentVolumeClaim({ namespace, body: pvc(record, c, size, this.s) }), { conflictOk: true });
        return { state: { claim: objectName(record.execution.uuid, c.uuid) } };
      }
      case 'data':
        return this.stage(ctx);
      case 'executable': {
        const out = await this.checkExecutable(ctx);
        if (out.state?.failed) return out;
        if (this.isBatch(ctx)) {
          await k8s('create job', () => this.batch.createNamespacedJob({ namespace, body: executableJob(record, c, this.s) }), { conflictOk: true });
        } else {
          const token = out.state?.jupyterToken as string | undefined;
          if (token) await k8s('create token secret', () => this.core.createNamespacedSecret({ namespace, body: notebookSecret(record, c, token) }), { conflictOk: true });
          await k8s('create pod', () => this.core.createNamespacedPod({ namespace, body: executablePod(record, c, this.s) }), { conflictOk: true });
          const service = executableService(record, c, this.portsOf({ ...ctx, state: { ...ctx.state, ...out.state } }));
          if (service) await k8s('create service', () => this.core.createNamespacedService({ namespace, body: service }), { conflictOk: true });
        }
        return { state: { ...out.state, name: objectName(record.execution.uuid, c.uuid) } };
      }
      default:
        return {};
    }
  }

  /**
   * Makes the data component's fetch plan in the worker (data services are asked under the egress
   * policy), checks every URL it hands on under the same policy (the Job fetches inside the cluster,
   * where a NetworkPolicy should confine it too), then creates a staging Job that fetches the files
   * into the claim. Credentials go in a Secret, everything else in environment variables.
   */
  private async stage(ctx: ComponentContext): Promise<StepOutput> {
    const { record, component: c } = ctx;
    if (ctx.state.job || ctx.state.failed) return {};
    let plan: FetchPlan;
    try {
      plan = await planData(ctx, this.s.staging, this.ownerToken);
      for (const item of plan.items) await this.checkEgress(item.url);
    } catch (err) {
      return { state: { failed: (err as Error).message }, messages: err instanceof StagingFailed ? err.messages : [] };
    }
    const known = plan.items.every((i) => i.size !== undefined) ? plan.items.reduce((n, i) => n + i.size!, 0) : undefined;
    const holder = claimFor(record, c);
    const namespace = this.ns;
    if (holder === c) {
      const sizeGib = Math.max(1, Math.ceil((known ?? 0) / GiB));
      await k8s('create claim', () => this.core.createNamespacedPersistentVolumeClaim({ namespace, body: pvc(record, c, sizeGib, this.s) }), { conflictOk: true });
    } else if (known !== undefined && known > ((holder.spec as { size?: { min?: number } }).size?.min ?? 1) * GiB) {
      return { state: { failed: `${known} bytes, larger than the storage booked` } };
    }
    const secret = stagingSecret(record, c, plan);
    if (secret) await k8s('create staging secret', () => this.core.createNamespacedSecret({ namespace, body: secret }), { conflictOk: true });
    await k8s('create staging job', () => this.batch.createNamespacedJob({ namespace, body: stagingJob(record, c, plan, this.s) }), { conflictOk: true });
    return {
      state: { job: objectName(record.execution.uuid, c.uuid), source: plan.source, files: plan.items.length, startedAt: Date.now() },
      messages: plan.messages,
    };
  }

  /** What the staging Job has reported so far: its "eb-staged <i> <bytes>" lines. */
  private async stagedSoFar(c: ComponentRow): Promise<{ files: number; bytes: number; log: string[] }> {
    const log = await this.logTail((await this.podsOf(c)).at(-1), 200);
    const staged = log.map((l) => /^eb-staged (\d+) (\d+)$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
    return { files: staged.length, bytes: staged.reduce((n, m) => n + Number(m[2]), 0), log };
  }

  private async stagingStatus(ctx: ComponentContext, name: string): Promise<ComponentStatus & StepOutput> {
    if (typeof ctx.state.failed === 'string') return { status: 'failed', reason: ctx.state.failed };
    const job = await k8s('read staging job', () => this.batch.readNamespacedJob({ name, namespace: this.ns }), { notFound: undefined });
    if (!job) return { status: 'failed', reason: `the staging job ${name} is gone` };
    const failedCondition = job.status?.conditions?.find((x) => x.type === 'Failed' && x.status === 'True');
    if (failedCondition) {
      const log = await this.logTail((await this.podsOf(ctx.component)).at(-1));
      return { status: 'failed', reason: `staging failed (${failedCondition.reason ?? 'Failed'}): ${log.join(' | ') || failedCondition.message || ''}` };
    }
    const done = (job.status?.succeeded ?? 0) > 0;
    const so = await this.stagedSoFar(ctx.component);
    const reported = Number(ctx.state.reported ?? 0);
    const summary = (kind: string) => message(kind, 'INFO', 'Staged {files} of {total} files ({bytes} bytes) into the claim', { files: so.files, total: Number(ctx.state.files ?? 0), bytes: so.bytes });
    if (done) {
      await ctx.recordTransfer?.(String(ctx.state.source ?? 'unknown'), so.bytes, Date.now() - Number(ctx.state.startedAt ?? Date.now())).catch(() => undefined);
      // Reported once: the component is AVAILABLE after this answer.
      return { status: 'available', messages: [summary('urn:data-staged')], state: { reported: so.files, bytes: so.bytes } };
    }
    const messages: MessageItem[] = so.files > reported ? [summary('urn:data-progress')] : [];
    return { status: 'preparing', messages, state: { reported: so.files } };
  }

  /**
   * What the executable needs before its pod is made: a DockerContainer nothing; a notebook the
   * notebook image, its location checked under the egress policy (the pod fetches it), and for an
   * interactive one its Jupyter token (kept, and given to the pod through a Secret).
   */
  private async checkExecutable(ctx: ComponentContext): Promise<StepOutput> {
    const c = ctx.component;
    if (c.kind === Kinds.dockerContainer) return {};
    if (c.kind !== Kinds.jupyterNotebook || !this.s.notebookImage) throw new PermanentPlatformError(`the Kubernetes platform cannot run ${c.kind}`);
    const location = (c.spec as { location?: unknown }).location;
    try {
      if (typeof location !== 'string') throw new Error('the notebook has no location');
      await this.checkEgress(location);
    } catch (err) {
      return { state: { failed: (err as Error).message } };
    }
    if (this.isBatch(ctx)) return {};
    return { state: { jupyterToken: typeof ctx.state.jupyterToken === 'string' ? ctx.state.jupyterToken : randomBytes(24).toString('hex') } };
  }

  /** The ports an executable publishes: the request's, or Jupyter's for an interactive notebook. */
  private portsOf(ctx: ComponentContext): DockerNetworkPort[] {
    if (ctx.component.kind === Kinds.jupyterNotebook) return typeof ctx.state.jupyterToken === 'string' ? notebookPorts(ctx.state.jupyterToken) : [];
    return (ctx.component.spec as DockerContainer).network?.ports ?? [];
  }

  /** Pods are started by the cluster as soon as they are created. */
  async start(): Promise<StepOutput> {
    return {};
  }

  private async podsOf(c: ComponentRow): Promise<V1Pod[]> {
    const list = await k8s('list pods', () => this.core.listNamespacedPod({ namespace: this.ns, labelSelector: `${LABEL_COMPONENT}=${c.uuid}` }));
    return list?.items ?? [];
  }

  private async logTail(pod: V1Pod | undefined, lines = 20): Promise<string[]> {
    const started = pod?.status?.containerStatuses?.some((c) => c.state?.running || c.state?.terminated);
    if (!pod?.metadata?.name || !started) return [];
    const text = await k8s('read log', () => this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: this.ns, tailLines: lines }), { notFound: '' });
    return (text ?? '').split('\n').filter(Boolean);
  }

  private pullFailure(pods: V1Pod[]): string | undefined {
    for (const p of pods) {
      for (const cs of p.status?.containerStatuses ?? []) {
        const w = cs.state?.waiting;
        if (w?.reason && PULL_FAILURES.has(w.reason)) return `${w.reason}: ${w.message ?? cs.image}`;
      }
    }
    return undefined;
  }

  async status(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    if (typeof ctx.state.failed === 'string' && ctx.component.role === 'executable') return { status: 'failed', reason: ctx.state.failed };
    const { record, component: c } = ctx;
    const name = objectName(record.execution.uuid, c.uuid);
    const namespace = this.ns;
    switch (c.role) {
      case 'storage': {
        const claim = await k8s('read claim', () => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }), { notFound: undefined });
        if (!claim) return { status: 'failed', reason: `the claim ${name} is gone` };
        return !this.s.waitForBound || claim.status?.phase === 'Bound' ? { status: 'available' } : { status: 'preparing' };
      }
      case 'data':
        return this.stagingStatus(ctx, name);
      case 'executable':
        return this.isBatch(ctx) ? this.jobStatus(ctx, name) : this.podStatus(ctx, name);
      default:
        return { status: 'available' };
    }
  }

  /**
   * The owner may extend a running execution (a longer available duration): the Job's deadline, fixed
   * when it was made, is moved on to match, or the cluster would stop it at the old end.
   */
  private async followExtension(name: string, deadlineS: number | undefined, availableMs: number): Promise<void> {
    const wanted = Math.ceil(availableMs / 1000);
    if (deadlineS === undefined || deadlineS >= wanted) return;
    await k8s('extend job deadline', () => this.batch.patchNamespacedJob({
      name, namespace: this.ns, body: [{ op: 'replace', path: '/spec/activeDeadlineSeconds', value: wanted }],
    }));
  }

  private async jobStatus(ctx: ComponentContext, name: string): Promise<ComponentStatus & StepOutput> {
    const job = await k8s('read job', () => this.batch.readNamespacedJob({ name, namespace: this.ns }), { notFound: undefined });
    if (!job) return { status: 'failed', reason: `the job ${name} is gone` };
    const pods = await this.podsOf(ctx.component);
    const pull = this.pullFailure(pods);
    if (pull) return { status: 'failed', reason: `the image could not be pulled (${pull})` };
    const done = (job.status?.succeeded ?? 0) > 0 || (job.status?.failed ?? 0) > 0;
    if (!done) await this.followExtension(name, job.spec?.activeDeadlineSeconds, ctx.record.execution.available_ms);
    if (done) {
      const pod = pods.at(-1);
      const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
      const exitCode = terminated?.exitCode ?? ((job.status?.succeeded ?? 0) > 0 ? 0 : 1);
      // A notebook's log ends with its executed copy: the tail shown is what the cells printed.
      const logTail = ctx.component.kind === Kinds.jupyterNotebook
        ? unframe((await this.executableLog(ctx)) ?? '').rest.split('\n').filter(Boolean).slice(-20)
        : await this.logTail(pod);
      return { status: 'finished', exitCode, logTail };
    }
    return pods.some((p) => p.status?.phase === 'Running') ? { status: 'available' } : { status: 'preparing' };
  }

  private async podStatus(ctx: ComponentContext, name: string): Promise<ComponentStatus & StepOutput> {
    const pod = await k8s('read pod', () => this.core.readNamespacedPod({ name, namespace: this.ns }), { notFound: undefined });
    if (!pod) return { status: 'failed', reason: `the pod ${name} is gone` };
    const pull = this.pullFailure([pod]);
    if (pull) return { status: 'failed', reason: `the image could not be pulled (${pull})` };
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      const exitCode = pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode ?? (phase === 'Succeeded' ? 0 : 1);
      return { status: 'finished', exitCode, logTail: await this.logTail(pod) };
    }
    const ready = pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    if (phase !== 'Running' || !ready) return { status: 'preparing' };
    const ports = this.portsOf(ctx).filter((p) => p.access && p.internal?.port);
    const access = ports.map((p) => ({
      protocol: (p.protocol ?? 'HTTP').toUpperCase(),
      location: this.s.accessUrlTemplate.replace('{service}', name).replace('{namespace}', this.ns)
        .replace('{port}', String(p.internal!.port)).replace('{path}', p.path ? (p.path.startsWith('/') ? p.path : `/${p.path}`) : '/'),
    }));
    return { status: 'available', access };
  }

  /**
   * A pod's log is its containers' stdout and stderr together: one stream, shown as stdout. A batch
   * notebook's executed copy is framed at its end: given back as the notebook, and left out of stdout.
   */
  readonly outputStreams: readonly OutputStream[] = ['stdout', 'notebook'];

  private async executableLog(ctx: ComponentContext): Promise<string | undefined> {
    const name = objectName(ctx.record.execution.uuid, ctx.component.uuid);
    const pod = this.isBatch(ctx)
      ? (await this.podsOf(ctx.component)).at(-1)
      : await k8s('read pod', () => this.core.readNamespacedPod({ name, namespace: this.ns }), { notFound: undefined });
    // A container that has not started has no log yet (the API would answer 400).
    const started = pod?.status?.containerStatuses?.some((c) => c.state?.running || c.state?.terminated);
    if (!pod?.metadata?.name || !started) return undefined;
    return k8s('read log', () => this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: this.ns, container: 'executable' }), { notFound: undefined });
  }

  async output(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined> {
    if (ctx.component.role !== 'executable') return undefined;
    const notebook = ctx.component.kind === Kinds.jupyterNotebook;
    if (stream === 'stderr' || (stream === 'notebook' && !notebook)) return undefined;
    const text = await this.executableLog(ctx);
    if (text === undefined) return undefined;
    if (!notebook) return tailOf(text, maxBytes);
    const { notebook: executed, rest } = unframe(text);
    if (stream === 'stdout') return tailOf(rest, maxBytes);
    return executed && executed.length <= maxBytes ? { content: executed, totalBytes: executed.length } : undefined;
  }

  async release(ctx: ComponentContext): Promise<StepOutput & { done: boolean }> {
    const labelSelector = `${LABEL_COMPONENT}=${ctx.component.uuid}`;
    const namespace = this.ns;
    const opts = { namespace, labelSelector, propagationPolicy: 'Background' };
    switch (ctx.component.role) {
      case 'executable':
      case 'data':
        await k8s('delete jobs', () => this.batch.deleteCollectionNamespacedJob(opts));
        await k8s('delete pods', () => this.core.deleteCollectionNamespacedPod(opts));
        await k8s('delete services', () => this.core.deleteCollectionNamespacedService({ namespace, labelSelector }));
        await k8s('delete secrets', () => this.core.deleteCollectionNamespacedSecret({ namespace, labelSelector }));
        if (ctx.component.role === 'data') await k8s('delete claims', () => this.core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace, labelSelector }));
        break;
      case 'storage':
        await k8s('delete claims', () => this.core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace, labelSelector }));
        break;
      default:
        return { done: true };
    }
    const left = [
      ...((await k8s('list jobs', () => this.batch.listNamespacedJob({ namespace, labelSelector })))?.items ?? []),
      ...((await k8s('list pods', () => this.core.listNamespacedPod({ namespace, labelSelector })))?.items ?? []),
      ...((await k8s('list claims', () => this.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })))?.items ?? []),
    ];
    return { done: left.length === 0 };
  }
}
