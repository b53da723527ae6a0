import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Kinds, type DataResource, type DockerContainer } from '@eb/schema';
import { EgressRefused, checkUrlStatically, egressPolicy, resolveForFetch } from '@eb/core';
import type { ComponentRow } from '@eb/db';
import {
  PermanentPlatformError, type CapturedOutput, type ComponentContext, type ComponentStatus, type OutputStream, type PlatformAdapter, type StepOutput,
} from '../adapter.js';
import { tailOf } from '../output-tail.js';
import type { KubernetesSettings } from './config.js';
import { LABEL_COMPONENT, claimFor, executableJob, executablePod, executableService, objectName, pvc, stagingJob } from './objects.js';

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

  constructor(kc: KubeConfig, private readonly s: KubernetesSettings) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
  }

  /** kubeconfig (KUBECONFIG or ~/.kube/config), or the in-cluster service account. */
  static fromDefault(s: KubernetesSettings): KubernetesPlatform {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesPlatform(kc, s);
  }

  private get ns() { return this.s.namespace; }

  /**
   * The staging Job fetches inside the cluster, out of the worker's reach: its URL is checked here, under
   * the same policy as the Docker stager (a NetworkPolicy on the namespace should back this up, since the
   * Job resolves the name again and follows redirects itself).
   */
  private async checkEgress(location: string | undefined): Promise<void> {
    const policy = this.s.egress ?? egressPolicy();
    try {
      const url = checkUrlStatically(policy, location ?? '');
      // A name only the cluster's DNS knows cannot be checked here; the NetworkPolicy is the guard then.
      await resolveForFetch(policy, url).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTFOUND' && err.code !== 'EAI_AGAIN') throw err;
      });
    } catch (err) {
      if (err instanceof EgressRefused) throw new PermanentPlatformError(`refused by the broker's egress policy: ${err.message}`);
      throw err;
    }
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
      case 'data': {
        await this.checkEgress((c.spec as DataResource).location);
        if (claimFor(record, c) === c) {
          await k8s('create claim', () => this.core.createNamespacedPersistentVolumeClaim({ namespace, body: pvc(record, c, 1, this.s) }), { conflictOk: true });
        }
        await k8s('create staging job', () => this.batch.createNamespacedJob({ namespace, body: stagingJob(record, c, this.s) }), { conflictOk: true });
        return { state: { job: objectName(record.execution.uuid, c.uuid) } };
      }
      case 'executable': {
        if (c.kind !== Kinds.dockerContainer) throw new PermanentPlatformError(`the Kubernetes platform cannot run ${c.kind}`);
        if (this.isBatch(ctx)) {
          await k8s('create job', () => this.batch.createNamespacedJob({ namespace, body: executableJob(record, c) }), { conflictOk: true });
        } else {
          await k8s('create pod', () => this.core.createNamespacedPod({ namespace, body: executablePod(record, c) }), { conflictOk: true });
          const service = executableService(record, c);
          if (service) await k8s('create service', () => this.core.createNamespacedService({ namespace, body: service }), { conflictOk: true });
        }
        return { state: { name: objectName(record.execution.uuid, c.uuid) } };
      }
      default:
        return {};
    }
  }

  /** Pods are started by the cluster as soon as they are created. */
  async start(): Promise<StepOutput> {
    return {};
  }

  private async podsOf(c: ComponentRow): Promise<V1Pod[]> {
    const list = await k8s('list pods', () => this.core.listNamespacedPod({ namespace: this.ns, labelSelector: `${LABEL_COMPONENT}=${c.uuid}` }));
    return list?.items ?? [];
  }

  private async logTail(pod: V1Pod | undefined): Promise<string[]> {
    if (!pod?.metadata?.name) return [];
    const text = await k8s('read log', () => this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: this.ns, tailLines: 20 }), { notFound: '' });
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
    const { record, component: c } = ctx;
    const name = objectName(record.execution.uuid, c.uuid);
    const namespace = this.ns;
    switch (c.role) {
      case 'storage': {
        const claim = await k8s('read claim', () => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }), { notFound: undefined });
        if (!claim) return { status: 'failed', reason: `the claim ${name} is gone` };
        return !this.s.waitForBound || claim.status?.phase === 'Bound' ? { status: 'available' } : { status: 'preparing' };
      }
      case 'data': {
        const job = await k8s('read staging job', () => this.batch.readNamespacedJob({ name, namespace }), { notFound: undefined });
        if (!job) return { status: 'failed', reason: `the staging job ${name} is gone` };
        if ((job.status?.succeeded ?? 0) > 0) return { status: 'available' };
        const failedCondition = job.status?.conditions?.find((x) => x.type === 'Failed' && x.status === 'True');
        if (failedCondition) {
          const log = await this.logTail((await this.podsOf(c)).at(-1));
          return { status: 'failed', reason: `staging failed (${failedCondition.reason ?? 'Failed'}): ${log.join(' | ') || failedCondition.message || ''}` };
        }
        return { status: 'preparing' };
      }
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
      return { status: 'finished', exitCode, logTail: await this.logTail(pod) };
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
    const ports = ((ctx.component.spec as DockerContainer).network?.ports ?? []).filter((p) => p.access && p.internal?.port);
    const access = ports.map((p) => ({
      protocol: (p.protocol ?? 'HTTP').toUpperCase(),
      location: this.s.accessUrlTemplate.replace('{service}', name).replace('{namespace}', this.ns)
        .replace('{port}', String(p.internal!.port)).replace('{path}', p.path ? (p.path.startsWith('/') ? p.path : `/${p.path}`) : '/'),
    }));
    return { status: 'available', access };
  }

  /** A pod's log is its containers' stdout and stderr together: one stream, shown as stdout. */
  readonly outputStreams: readonly OutputStream[] = ['stdout'];

  async output(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined> {
    if (stream !== 'stdout' || ctx.component.role !== 'executable') return undefined;
    const name = objectName(ctx.record.execution.uuid, ctx.component.uuid);
    const pod = this.isBatch(ctx)
      ? (await this.podsOf(ctx.component)).at(-1)
      : await k8s('read pod', () => this.core.readNamespacedPod({ name, namespace: this.ns }), { notFound: undefined });
    // A container that has not started has no log yet (the API would answer 400).
    const started = pod?.status?.containerStatuses?.some((c) => c.state?.running || c.state?.terminated);
    if (!pod?.metadata?.name || !started) return undefined;
    const text = await k8s('read log', () => this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: this.ns, container: 'executable' }), { notFound: undefined });
    return text === undefined ? undefined : tailOf(text, maxBytes);
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
