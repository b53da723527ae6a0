import { readFile, rm, stat } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { Kinds, message, type DockerContainer, type DockerNetworkPort, type MessageItem } from '@eb/schema';
import type { ComponentRow } from '@eb/db';
import type { AccessPoint } from '@eb/core';
import type { CapturedOutput, ComponentContext, ComponentStatus, OutputStream, OwnerToken, PlatformAdapter, StepOutput } from '../adapter.js';
import type { DockerSettings } from './config.js';
import { graphOf } from '../graph.js';
import { containerLabels } from '../container-labels.js';
import { DownloadError, download } from '../../staging/download.js';
import { StagingFailed, planData } from '../../staging/stager.js';
import { LABEL_COMPONENT, LABEL_EXECUTION, LABEL_MANAGED, containerName } from './labels.js';
import { demuxLogLines } from './logs.js';
import { containerOutput } from './output.js';
import { createStorage, detectStorageMode, removeStorage, type StorageMode } from './storage.js';
import { hardenedHostConfig } from './hardening.js';
import { resolveImage } from './image.js';
import { notebookPorts, notebookRun, type RunSpec } from './notebook.js';
import { installFirewall, isOurNetwork, networkName } from './network.js';
import { ExecutionNetworks } from './network-pool.js';

const GiB = 2 ** 30;
const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/**
 * Runs executions as containers on a Docker engine. Storage is a host filesystem per component, of the
 * booked size (a loop-mounted ext4 image; a plain directory where the worker cannot mount), bind-mounted
 * and removed at release; data is streamed into its storage's directory before the container is
 * created; the container gets the offer's cores and memory as limits and publishes its ports on the
 * bind address. Everything carries the broker's labels.
 */
export class DockerPlatform implements PlatformAdapter {
  readonly name = 'docker';
  readonly docker: Docker;
  private storageMode: Promise<StorageMode>;
  private firewall: Promise<boolean> | undefined;
  readonly networks: ExecutionNetworks;
  private swept = false;
  private readonly waits = new Set<AbortController>();

  constructor(private readonly s: DockerSettings, private readonly logger?: Logger, private readonly ownerToken: OwnerToken = async () => undefined) {
    this.docker = new Docker({ socketPath: s.socketPath });
    this.storageMode = s.storage ? Promise.resolve(s.storage) : detectStorageMode();
    this.networks = new ExecutionNetworks(this.docker, s.containerEgress, s.spareNetworks, logger);
  }

  /** Removes the spare networks not given out (the executions' own go with their release). */
  async close(): Promise<void> {
    for (const w of this.waits) w.abort();
    await this.networks.close();
  }

  /** The engine answers the wait when the container stops (or is removed): no polling in between. */
  async whenEnded(ctx: ComponentContext): Promise<void> {
    const controller = new AbortController();
    this.waits.add(controller);
    try {
      await this.docker.getContainer(containerName(ctx.record.execution.uuid)).wait({ condition: 'not-running', abortSignal: controller.signal });
    } finally {
      this.waits.delete(controller);
    }
  }

  /** Once per worker, in the background: networks a worker that died left behind. */
  private sweepOnce(): void {
    if (this.swept) return;
    this.swept = true;
    void this.networks.sweep().catch((err: unknown) => this.logger?.warn({ err: (err as Error).message }, 'could not sweep old networks'));
  }

  /** The host rules are installed once per worker, before its first container. */
  private ensureFirewall(): Promise<boolean> {
    if (!this.s.firewall) return Promise.resolve(false);
    this.firewall ??= installFirewall(this.s.containerEgress, this.logger ?? (console as unknown as Logger));
    return this.firewall;
  }

  async ping(): Promise<boolean> {
    return this.docker.ping().then(() => true, () => false);
  }

  private dirFor(ctx: ComponentContext, c: ComponentRow): string {
    return join(this.s.dataDir, ctx.record.execution.uuid, c.uuid);
  }

  async prepare(ctx: ComponentContext): Promise<StepOutput> {
    switch (ctx.component.role) {
      case 'storage': {
        const path = this.dirFor(ctx, ctx.component);
        const sizeGib = (ctx.component.spec as { size?: { min?: number } }).size?.min ?? 1;
        const mode = await this.storageMode;
        await createStorage(path, sizeGib, mode);
        return { state: { path, sizeGib, mode } };
      }
      case 'data':
        return this.stage(ctx);
      case 'executable':
        return this.createContainer(ctx);
      default:
        return {};
    }
  }

  /** Makes the data component's fetch plan, then streams each file into its storage's directory. */
  private async stage(ctx: ComponentContext): Promise<StepOutput> {
    if (ctx.state.path || ctx.state.failed) return {};
    const holder = graphOf(ctx.record).holderOf(ctx.component);
    const sizeGib = holder.role === 'storage' ? (holder.spec as { size?: { min?: number } }).size?.min : undefined;
    const messages = [];
    try {
      const plan = await planData(ctx, this.s.staging, this.ownerToken);
      messages.push(...plan.messages);
      const dir = this.dirFor(ctx, holder);
      const started = Date.now();
      let bytes = 0;
      const files: string[] = [];
      for (const item of plan.items) {
        const r = await download(item, dir, {
          policy: this.s.staging.policy,
          attempts: this.s.staging.attempts,
          ...(this.s.staging.backoffMs !== undefined ? { backoffMs: this.s.staging.backoffMs } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onProgress: (m) => { void ctx.report?.([m]).catch(() => undefined); },
          ...(sizeGib !== undefined ? { maxBytes: sizeGib * GiB - bytes } : {}),
        });
        bytes += r.bytes;
        files.push(r.path);
        messages.push(...r.messages);
      }
      await ctx.recordTransfer?.(plan.source, bytes, Date.now() - started).catch(() => undefined);
      return { state: { path: files[0] ?? dir, files, bytes }, messages };
    } catch (err) {
      if (err instanceof DownloadError || err instanceof StagingFailed) messages.push(...err.messages);
      return { state: { failed: (err as Error).message }, messages };
    }
  }

  private binds(ctx: ComponentContext): string[] {
    return graphOf(ctx.record).mounts().map((m) => `${this.dirFor(ctx, m.holder)}:${m.path}:${m.readOnly ? 'ro' : 'rw'}`);
  }

  private async createContainer(ctx: ComponentContext): Promise<StepOutput> {
    const e = ctx.record.execution;
    const name = containerName(e.uuid);
    const existing = await this.docker.getContainer(name).inspect().catch(() => undefined);
    if (existing) {
      // Made by a step that did not live to save its state: a notebook's token is in its environment.
      const token = existing.Config.Env?.find((v) => v.startsWith('JUPYTER_TOKEN='))?.slice('JUPYTER_TOKEN='.length);
      return { state: { containerId: existing.Id, network: existing.HostConfig.NetworkMode, ...(token ? { jupyterToken: token } : {}) } };
    }
    let run: RunSpec;
    try {
      run = await this.runSpec(ctx);
    } catch (err) {
      return { state: { failed: (err as Error).message }, messages: (err as { messages?: MessageItem[] }).messages ?? [] };
    }
    const ports = run.ports.filter((p) => p.internal?.port);
    const key = (p: { internal?: { port?: number }; protocol?: string }) => `${p.internal!.port}/${p.protocol?.toUpperCase() === 'UDP' ? 'udp' : 'tcp'}`;
    await this.ensureFirewall();
    this.sweepOnce();
    const network = await this.networks.take(e.uuid);
    const created = await this.docker.createContainer({
      name,
      Image: run.image,
      ...(run.cmd?.length ? { Cmd: run.cmd } : {}),
      ...(run.entrypoint ? { Entrypoint: run.entrypoint } : {}),
      Env: Object.entries(run.env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...containerLabels(ctx.record, ctx.component, 'execution'), [LABEL_MANAGED]: 'true', [LABEL_EXECUTION]: e.uuid, [LABEL_COMPONENT]: ctx.component.uuid },
      ExposedPorts: Object.fromEntries(ports.map((p) => [key(p), {}])),
      HostConfig: {
        ...hardenedHostConfig(this.s),
        NanoCpus: e.cores * 1e9,
        Memory: e.memory_gib * GiB,
        // No swap beyond the memory limit: the booked memory is the bound.
        MemorySwap: e.memory_gib * GiB,
        Binds: [...this.binds(ctx), ...run.binds],
        NetworkMode: network,
        PortBindings: Object.fromEntries(ports.map((p) => [key(p), [{ HostIp: this.s.bindIp, HostPort: '' }]])),
        // json-file stores logs as JSON strings and so rewrites invalid UTF-8; `local` keeps the bytes.
        LogConfig: { Type: this.s.logDriver ?? 'local', Config: {} },
      },
    }).then((c) => ({ id: c.id, network }), (err: unknown) => {
      // The network just taken is no one's now: never handed to another execution, it goes.
      this.networks.retire(network);
      // Another worker created it between our inspect and create (with a network of its own).
      if (statusOf(err) === 409) return { id: name, network: undefined };
      throw err;
    });
    return { state: { containerId: created.id, ...(created.network ? { network: created.network } : {}), ...run.state }, messages: run.messages ?? [] };
  }

  /** The notebook's own directory, beside the execution's storage. */
  private notebookDir(ctx: ComponentContext): string {
    return join(this.s.dataDir, ctx.record.execution.uuid, `${ctx.component.uuid}-notebook`);
  }

  /** What the executable's container runs: the request's image and command, or a notebook in the notebook image. */
  private async runSpec(ctx: ComponentContext): Promise<RunSpec> {
    if (ctx.component.kind === Kinds.jupyterNotebook) return notebookRun(this.docker, this.s, ctx, this.notebookDir(ctx));
    const exe = ctx.component.spec as DockerContainer;
    return {
      image: await resolveImage(this.docker, exe, this.s.pull),
      ...(exe.command?.length ? { cmd: exe.command } : {}),
      ...(exe.entrypoint ? { entrypoint: [exe.entrypoint] } : {}),
      env: exe.environment ?? {},
      ports: exe.network?.ports ?? [],
      binds: [],
    };
  }

  /** The ports the executable publishes: the request's, or Jupyter's for an interactive notebook. */
  private portsOf(ctx: ComponentContext): DockerNetworkPort[] {
    if (ctx.component.kind === Kinds.jupyterNotebook) {
      return ctx.record.execution.interactive && typeof ctx.state.jupyterToken === 'string' ? notebookPorts(ctx.state.jupyterToken) : [];
    }
    return (ctx.component.spec as DockerContainer).network?.ports ?? [];
  }

  async start(ctx: ComponentContext): Promise<StepOutput> {
    await this.docker.getContainer(containerName(ctx.record.execution.uuid)).start().catch((err: unknown) => {
      if (statusOf(err) !== 304) throw err; // 304: already started
    });
    return { state: { started: true } };
  }

  async status(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    if (typeof ctx.state.failed === 'string') return { status: 'failed', reason: ctx.state.failed };
    switch (ctx.component.role) {
      case 'storage':
        return ctx.state.path ? { status: 'available' } : { status: 'preparing' };
      case 'data':
        return ctx.state.path ? { status: 'available' } : { status: 'preparing' };
      case 'executable':
        return this.containerStatus(ctx);
      default:
        return { status: 'available' };
    }
  }

  private async containerStatus(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    const c = this.docker.getContainer(containerName(ctx.record.execution.uuid));
    const info = await c.inspect().catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
    if (!info) return ctx.state.containerId ? { status: 'failed', reason: 'the container disappeared' } : { status: 'preparing' };
    if (info.State.Status === 'created') return { status: 'ready' };
    if (info.State.Running) {
      const access = this.accessPoints(ctx, info.NetworkSettings.Ports ?? {});
      for (const a of access) {
        if (!(await answers(a.host, a.port, a.protocol))) return { status: 'preparing' };
      }
      return { status: 'available', access: access.map(({ protocol, location }) => ({ protocol, location })) };
    }
    const logs = demuxLogLines(await c.logs({ stdout: true, stderr: true, tail: 20 }) as unknown as Buffer);
    if (info.State.OOMKilled) return { status: 'failed', reason: `out of memory (limit ${ctx.record.execution.memory_gib} GiB)`, messages: [] };
    return { status: 'finished', exitCode: info.State.ExitCode, logTail: logs };
  }

  private accessPoints(ctx: ComponentContext, ports: Record<string, { HostIp: string; HostPort: string }[] | null>): (AccessPoint & { host: string; port: number })[] {
    return this.portsOf(ctx).filter((p) => p.access && p.internal?.port).flatMap((p) => {
      const bound = ports[`${p.internal!.port}/tcp`]?.[0];
      if (!bound) return [];
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      const port = Number(bound.HostPort);
      const scheme = protocol === 'HTTPS' ? 'https' : protocol === 'HTTP' ? 'http' : 'tcp';
      const path = p.path ? (p.path.startsWith('/') ? p.path : `/${p.path}`) : scheme === 'tcp' ? '' : '/';
      return [{ protocol, location: `${scheme}://${this.s.publicHost}:${port}${path}`, host: this.s.bindIp === '0.0.0.0' ? '127.0.0.1' : this.s.bindIp, port }];
    });
  }

  readonly outputStreams: readonly OutputStream[] = ['stdout', 'stderr', 'notebook'];

  async output(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined> {
    if (stream === 'notebook') {
      // Batch runs write the executed copy; an interactive session's is the notebook as last saved.
      const file = join(this.notebookDir(ctx), ctx.record.execution.interactive ? 'input.ipynb' : 'output.ipynb');
      const size = await stat(file).then((st) => st.size, () => undefined);
      if (size === undefined || size > maxBytes) return undefined;
      const content = await readFile(file);
      return { content, totalBytes: content.length };
    }
    // By name: the engine answers 404 when there is no container (yet, or any more).
    return containerOutput(this.docker, containerName(ctx.record.execution.uuid), stream, maxBytes).catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
  }

  async release(ctx: ComponentContext): Promise<StepOutput & { done: boolean }> {
    switch (ctx.component.role) {
      case 'executable': {
        const c = this.docker.getContainer(containerName(ctx.record.execution.uuid));
        // Its network as saved, or the one it is attached to (a step that died may not have saved it).
        const saved = typeof ctx.state.network === 'string' && isOurNetwork(ctx.state.network) ? ctx.state.network : undefined;
        const attached = saved ? undefined : await c.inspect().then((i) => i.HostConfig.NetworkMode, () => undefined);
        const network = saved ?? (isOurNetwork(attached) ? attached : networkName(ctx.record.execution.uuid));
        await c.remove({ force: true, v: true }).catch((err: unknown) => {
          if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err; // gone, or removal already under way
        });
        const still = await c.inspect().then(() => true, () => false);
        if (!still) {
          // Removed behind the release: a network without containers holds nothing of the booking.
          this.networks.retire(network);
          await rm(this.notebookDir(ctx), { recursive: true, force: true });
        }
        return { done: !still, ...(still ? {} : { messages: [message('urn:released', 'INFO', 'Container removed', {})] }) };
      }
      case 'storage':
      case 'data': {
        // A download still writing (a cancel that overtook it) keeps the mount busy: try again shortly.
        if (!(await removeStorage(this.dirFor(ctx, ctx.component)))) return { done: false };
        // The execution's own directory goes with its last component.
        if (ctx.component.role === 'storage' || !graphOf(ctx.record).storageOf(ctx.component)) {
          await rm(join(this.s.dataDir, ctx.record.execution.uuid), { recursive: true, force: true }).catch(() => undefined);
        }
        return { done: true };
      }
      default:
        return { done: true };
    }
  }
}

/**
 * Whether a published port really answers. Docker's userland proxy accepts TCP connections before the
 * container listens, so HTTP ports must give an HTTP response; plain TCP ports must accept and stay open.
 */
function answers(host: string, port: number, protocol: string): Promise<boolean> {
  if (protocol === 'HTTP' || protocol === 'HTTPS') {
    return new Promise((resolve) => {
      const req = httpGet({ host, port, path: '/', timeout: 1000 }, (res) => { res.resume(); resolve(true); });
      req.once('error', () => resolve(false));
      req.once('timeout', () => { req.destroy(); resolve(false); });
    });
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      // The proxy closes at once when nothing listens behind it.
      const t = setTimeout(() => { socket.destroy(); resolve(true); }, 200);
      socket.once('close', () => { clearTimeout(t); resolve(false); });
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}
