import { Kinds, message, type DockerContainer } from '@eb/schema';
import {
  PermanentPlatformError, type CapturedOutput, type OwnerToken, type ComponentContext, type ComponentStatus, type OutputStream, type PlatformAdapter, type StepOutput,
} from '../adapter.js';
import { tailOf } from '../output-tail.js';
import type { SkahaSettings } from './config.js';
import type { TokenSource } from './token.js';
import { prepareDataRow } from './prepare-data.js';

interface SkahaSession {
  id: string;
  status: string;
  name?: string;
  connectURL?: string;
  expiryTime?: string;
}

class SkahaHttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/**
 * Runs executables as CANFAR Skaha sessions over its HTTP API: launch (form-encoded POST), poll
 * (Pending, Running, Terminating, Completed, Succeeded, Failed, Error), renew long ones, delete at
 * release (the 404 that follows means released). Calls carry the owner's token when the broker holds
 * one, else the configured service token. Storage and data stay with the platform (nothing to stage).
 */
export class SkahaPlatform implements PlatformAdapter {
  readonly name = 'skaha';

  constructor(private readonly s: SkahaSettings, private readonly tokens: TokenSource, private readonly ownerToken: OwnerToken = async () => undefined) {}

  private url(path: string): string {
    return `${this.s.baseUrl}/${this.s.apiVersion}/session${path}`;
  }

  /** One call, with a fresh token and one retry after a 401; 5xx thrown for a retry later, other 4xx permanent. */
  private async call(ctx: ComponentContext, method: string, path: string, body?: URLSearchParams | string, url = this.url(path)): Promise<Response> {
    const owner = await this.ownerToken(ctx.record.execution.uuid);
    const type = body === undefined ? undefined : typeof body === 'string' ? 'application/json' : 'application/x-www-form-urlencoded';
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = owner ?? (attempt === 0 ? await this.tokens.token() : await this.tokens.refresh());
      const res = await fetch(url, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(type ? { 'Content-Type': type } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      if (res.status === 401 && !owner && attempt === 0) continue;
      return res;
    }
    throw new Error('unreachable');
  }

  private async ok(res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    const text = (await res.text()).trim().slice(0, 300);
    const message = `Skaha answered ${res.status} to ${what}${text ? `: ${text}` : ''}`;
    if (res.status >= 500 || res.status === 429) throw new SkahaHttpError(res.status, message);
    if (res.status === 401) throw new SkahaHttpError(401, `${message} (the token was refused)`);
    throw new PermanentPlatformError(message);
  }

  private sessionName(ctx: ComponentContext): string {
    return `eb-${ctx.record.execution.uuid.slice(0, 8)}`;
  }

  private sessionType(ctx: ComponentContext): string {
    if (ctx.component.kind === Kinds.jupyterNotebook) return 'notebook';
    return ctx.record.execution.interactive ? 'contributed' : 'headless';
  }

  /** The user's home in sessions, and the directory (relative to it) the execution's data goes to. */
  private dataDir(ctx: ComponentContext): { home: string; dir: string } {
    const user = ctx.record.execution.owner.replace(/[^A-Za-z0-9._-]/g, '_');
    return { home: (this.s.dataHome ?? '/arc/home/{user}').replace('{user}', user), dir: `eb-data/${ctx.record.execution.uuid}` };
  }

  /** Asks the prepare-data gatekeeper to stage a data-lake file into the user's home; the task is polled in status. */
  private async prepareData(ctx: ComponentContext): Promise<StepOutput> {
    if (ctx.state.taskId) return {};
    if (!this.s.prepareDataUrl) throw new PermanentPlatformError('no prepare-data service is configured for this Skaha platform');
    const { home, dir } = this.dataDir(ctx);
    const { row, file } = prepareDataRow(ctx.component, dir);
    const res = await this.ok(await this.call(ctx, 'POST', '', JSON.stringify([row]), `${this.s.prepareDataUrl}/preparedata`), 'prepare data');
    const taskId = ((await res.json()) as { task_id?: unknown }).task_id;
    if (typeof taskId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(taskId)) throw new Error('the prepare-data service sent no task id');
    return {
      state: { taskId, path: `${home}/${dir}/${file}` },
      messages: [message('urn:data-prepare', 'INFO', 'Staging {did} into {path} (prepare-data task {task})', { did: row[0], path: `${home}/${dir}/${file}`, task: taskId })],
    };
  }

  private async dataStatus(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    const taskId = ctx.state.taskId as string | undefined;
    if (!taskId) return { status: 'preparing' };
    const res = await this.ok(await this.call(ctx, 'GET', '', undefined, `${this.s.prepareDataUrl}/preparedata/${taskId}`), 'prepare-data task');
    const task = (await res.json()) as { status?: string; error?: string; result?: unknown };
    if (task.status === 'SUCCESS') return { status: 'available', messages: [message('urn:data-staged', 'INFO', 'Staged into {path}', { path: String(ctx.state.path) })] };
    if (task.status === 'FAILURE' || task.status === 'REVOKED') return { status: 'failed', reason: `prepare-data task ${taskId} ended ${task.status}${task.error ? `: ${String(task.error).slice(0, 300)}` : ''}` };
    return { status: 'preparing' };
  }

  async prepare(ctx: ComponentContext): Promise<StepOutput> {
    if (ctx.component.role === 'data') return this.prepareData(ctx);
    if (ctx.component.role !== 'executable' || ctx.state.sessionId) return {};
    const name = this.sessionName(ctx);
    // A worker may have launched it and died before saving the id: find it rather than launch twice.
    const listed = await (await this.ok(await this.call(ctx, 'GET', ''), 'list sessions')).json() as SkahaSession[];
    const existing = listed.find((x) => x.name === name);
    if (existing) return { state: { sessionId: existing.id } };
    const exe = ctx.component.spec as DockerContainer & { location?: string };
    const e = ctx.record.execution;
    const form = new URLSearchParams({
      name, image: exe.image?.locations?.[0] ?? exe.location ?? '', cores: String(e.cores), ram: String(e.memory_gib), type: this.sessionType(ctx),
    });
    const [first, ...rest] = exe.entrypoint ? [exe.entrypoint, ...(exe.command ?? [])] : (exe.command ?? []);
    if (first) form.set('cmd', first);
    if (rest.length) form.set('args', rest.join(' '));
    for (const [k, v] of Object.entries(exe.environment ?? {})) form.append('env', `${k}=${v}`);
    // Where the data staged by prepare-data is, in the session.
    if (ctx.record.components.some((c) => c.role === 'data')) {
      const { home, dir } = this.dataDir(ctx);
      form.append('env', `EB_DATA_DIR=${home}/${dir}`);
    }
    const res = await this.ok(await this.call(ctx, 'POST', '', form), 'launch session');
    const sessionId = (await res.text()).trim();
    if (!sessionId) throw new Error('Skaha launched a session but sent no id');
    return { state: { sessionId, renewedAt: Date.now() } };
  }

  async start(): Promise<StepOutput> {
    return {};
  }

  async status(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    if (ctx.component.role === 'data') return this.dataStatus(ctx);
    if (ctx.component.role !== 'executable') return { status: 'available' };
    const id = ctx.state.sessionId as string | undefined;
    if (!id) return { status: 'preparing' };
    const res = await this.call(ctx, 'GET', `/${id}`);
    if (res.status === 404) return { status: 'failed', reason: `the session ${id} is gone` };
    const session = (await (await this.ok(res, 'get session')).json()) as SkahaSession;
    switch (session.status) {
      case 'Pending':
        return { status: 'preparing' };
      case 'Running': {
        const out: StepOutput = {};
        const renewedAt = Number(ctx.state.renewedAt ?? 0);
        if (Date.now() - renewedAt >= this.s.renewEveryMs) {
          await this.ok(await this.call(ctx, 'POST', `/${id}?action=renew`), 'renew session');
          out.state = { renewedAt: Date.now() };
        }
        const access = session.connectURL && this.sessionType(ctx) !== 'headless' ? [{ protocol: 'HTTPS', location: session.connectURL }] : [];
        return { status: 'available', access, ...out };
      }
      case 'Completed':
      case 'Succeeded':
        return { status: 'finished', exitCode: 0, logTail: await this.logs(ctx, id) };
      case 'Failed':
      case 'Error':
        return { status: 'finished', exitCode: 1, logTail: [`session ${session.status}`, ...(await this.logs(ctx, id))] };
      default: // Terminating, or a status added later
        return { status: 'preparing' };
    }
  }

  private async logs(ctx: ComponentContext, id: string): Promise<string[]> {
    const res = await this.call(ctx, 'GET', `/${id}?view=logs`);
    if (!res.ok) return [];
    return (await res.text()).split('\n').filter(Boolean).slice(-20);
  }

  /** Skaha's `?view=logs` is the session's one log. */
  readonly outputStreams: readonly OutputStream[] = ['stdout'];

  async output(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined> {
    const id = ctx.state.sessionId as string | undefined;
    if (stream !== 'stdout' || ctx.component.role !== 'executable' || !id) return undefined;
    const res = await this.call(ctx, 'GET', `/${id}?view=logs`);
    if (!res.ok) return undefined;
    return tailOf(Buffer.from(await res.arrayBuffer()), maxBytes);
  }

  async release(ctx: ComponentContext): Promise<StepOutput & { done: boolean }> {
    const id = ctx.state.sessionId as string | undefined;
    if (ctx.component.role !== 'executable' || !id) return { done: true };
    if (!ctx.state.deleteSent) {
      const res = await this.call(ctx, 'DELETE', `/${id}`);
      if (res.status === 404) return { done: true };
      await this.ok(res, 'delete session');
      return { done: false, state: { deleteSent: true } };
    }
    // Deleted sessions go through Terminating; the 404 that follows means released.
    const res = await this.call(ctx, 'GET', `/${id}`);
    if (res.status === 404) return { done: true };
    await this.ok(res, 'get session');
    return { done: false };
  }
}
