import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { message, type ExecutionPhase, type LifecyclePhase, type MessageItem } from '@eb/schema';
import {
  appendComponentMessages, appendExecutionMessages, findExecutionForStep, findExecutionRow, moveComponent, recordTransfer, releaseExecutionBookings,
  setPlatformState, transitionExecution, type ComponentRow, type Db, type ExecutionRecord,
} from '@eb/db';
import { enqueueStep, type StepJob } from '@eb/core';
import { PermanentPlatformError, type ComponentContext, type PlatformAdapter, type StepOutput } from '../platforms/adapter.js';
import { pollDelay, type StepTiming } from './timing.js';
import { dependenciesOf, inPrepareOrder, inReleaseOrder, waitsForStart } from './dependencies.js';
import { watchStep } from './watch.js';
import { outputCapture, type OutputSettings } from './output.js';

export interface StepDeps {
  db: Db;
  queue: Queue<StepJob>;
  platform: PlatformAdapter;
  timing: StepTiming;
  logger: Logger;
  onTransition?: (uuid: string, from: ExecutionPhase, to: ExecutionPhase) => void;
  /** How executables' output is copied into the database (every 5 s, the last MiB, when unset). */
  outputs?: OutputSettings;
}

/** Thrown by a step that must run again later; the job is parked as delayed, not retried. */
class Later {
  constructor(readonly at: number) {}
}

const UNDER_WAY: LifecyclePhase[] = ['INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING'];

/**
 * Runs one step of one execution. Each job names the execution phase it was made for; if the execution
 * has moved on, the job is stale and does nothing. Every move, of the execution or of a component, is a
 * compare-and-set in PostgreSQL, so a job run twice (worker killed, Redis restored, reconciler
 * re-enqueued) applies each change once. Platform calls are idempotent for the same reason.
 */
export function createStepProcessor(deps: StepDeps) {
  const { db, platform, timing, logger } = deps;
  const outputs = outputCapture(db, platform, deps.outputs ?? { everyMs: 5000, maxBytes: 2 ** 20 }, logger);

  /** The executable's output, read for good before it can be released (its container may go with it). */
  async function keepOutput(ctx: ComponentContext): Promise<void> {
    if (ctx.state.outputKept) return;
    await outputs.final(ctx);
    await save(ctx, { state: { outputKept: true } });
  }

  function contextFor(record: ExecutionRecord, component: ComponentRow, signal?: AbortSignal): ComponentContext {
    const all = record.execution.platform_state as Record<string, Record<string, unknown>>;
    return {
      record, component,
      state: { ...(all[component.uuid] ?? {}) },
      stateOf: (uuid) => ({ ...(all[uuid] ?? {}) }),
      report: (messages) => appendComponentMessages(db, component.uuid, messages),
      recordTransfer: (source, bytes, ms) => recordTransfer(db, source, bytes, ms),
      ...(signal ? { signal } : {}),
    };
  }

  /** The latest a preparation may end: the offer's start of AVAILABLE plus the grace period. */
  const prepareDeadline = (record: ExecutionRecord) => record.execution.available_start.getTime() + timing.prepareGraceMs;

  async function save(ctx: ComponentContext, out: StepOutput): Promise<void> {
    const uuid = ctx.record.execution.uuid;
    if (out.state && Object.keys(out.state).length) {
      Object.assign(ctx.state, out.state);
      await setPlatformState(db, uuid, { [ctx.component.uuid]: ctx.state });
      (ctx.record.execution.platform_state as Record<string, unknown>)[ctx.component.uuid] = { ...ctx.state };
    }
    if (out.messages?.length) await appendComponentMessages(db, ctx.component.uuid, out.messages);
  }

  async function move(uuid: string, from: ExecutionPhase, to: ExecutionPhase, note: string, nextAt = Date.now()): Promise<boolean> {
    const moved = await transitionExecution(db, uuid, from, to, note);
    if (moved) {
      deps.onTransition?.(uuid, from, to);
      // After the commit: if this enqueue is lost, the reconciler finds the step owed and adds it.
      await enqueueStep(deps.queue, uuid, to, nextAt - Date.now());
    }
    return moved;
  }

  async function moveTo(c: ComponentRow, to: LifecyclePhase, note: string): Promise<void> {
    if (await moveComponent(db, c.uuid, [c.phase], to, note)) c.phase = to;
  }

  async function fail(record: ExecutionRecord, from: ExecutionPhase, messages: MessageItem[], culprit?: ComponentRow): Promise<void> {
    const uuid = record.execution.uuid;
    if (culprit) {
      await appendComponentMessages(db, culprit.uuid, messages);
      if (UNDER_WAY.includes(culprit.phase)) await moveTo(culprit, 'FAILED', messages[0]?.message ?? 'failed');
    }
    await appendExecutionMessages(db, uuid, messages);
    await move(uuid, from, 'FAILED', messages[0]?.message ?? 'failed');
  }

  /** One pass over the components in dependency order; true once the executable is in service. */
  async function prepareComponents(record: ExecutionRecord, phase: 'WAITING' | 'PREPARING', signal?: AbortSignal): Promise<'available' | 'failed' | 'pending'> {
    const e = record.execution;
    const started = Date.now() >= e.prepare_start.getTime();
    for (const c of inPrepareOrder(record)) {
      const ctx = contextFor(record, c, signal);
      if (c.phase === 'WAITING') {
        if (waitsForStart(c) && !started) continue;
        if (!dependenciesOf(c, record).every((d) => d.phase === 'AVAILABLE')) continue;
        await save(ctx, await platform.prepare(ctx));
        // A cancel may have come, and its release run, while the platform was creating this: if so,
        // release what was just made, or it would outlive the execution.
        if ((await findExecutionRow(db, e.uuid))?.phase !== phase) {
          await platform.release(ctx).catch((err: unknown) => logger.warn({ uuid: e.uuid, err: (err as Error).message }, 'late release failed'));
          return 'failed';
        }
        await moveTo(c, 'PREPARING', 'preparing');
      }
      if (c.phase === 'PREPARING') {
        const s = await platform.status(ctx);
        await save(ctx, s);
        if (s.status === 'failed') {
          await fail(record, phase, [message('urn:platform-failure', 'ERROR', 'Preparing [{component}] failed: {reason}', {
            component: c.name ?? c.role, reason: s.reason,
          })], c);
          return 'failed';
        }
        if (s.status === 'ready' && c.role === 'executable') {
          await save(ctx, await platform.start(ctx));
        } else if (s.status !== 'preparing') {
          if (s.status === 'available' && s.access?.length) await save(ctx, { state: { access: s.access } });
          await moveTo(c, 'AVAILABLE', c.role === 'executable' ? 'running' : 'ready');
        }
      }
    }
    const lifecycle = inPrepareOrder(record);
    const last = lifecycle.find((c) => c.role === 'executable') ?? lifecycle.at(-1);
    return !last || last.phase === 'AVAILABLE' ? 'available' : 'pending';
  }

  /** Releases components in order (data first, storage last); true once all are released. */
  async function releaseComponents(record: ExecutionRecord, finishing: boolean): Promise<boolean> {
    for (const c of inReleaseOrder(record)) {
      const ctx = contextFor(record, c);
      if (ctx.state.released === true) continue;
      if (finishing && ['AVAILABLE', 'RUNNING', 'PREPARING', 'WAITING'].includes(c.phase)) await moveTo(c, 'RELEASING', 'releasing');
      if (c.role === 'executable') await keepOutput(ctx);
      const r = await platform.release(ctx);
      await save(ctx, r);
      if (!r.done) return false;
      await save(ctx, { state: { released: true } });
      if (finishing && c.phase === 'RELEASING') await moveTo(c, 'COMPLETED', 'released');
    }
    return true;
  }

  function accessOf(record: ExecutionRecord): unknown[] {
    const exe = record.components.find((c) => c.role === 'executable');
    const state = exe ? (record.execution.platform_state as Record<string, { access?: unknown[] }>)[exe.uuid] : undefined;
    return state?.access ?? [];
  }

  async function step(record: ExecutionRecord, phase: ExecutionPhase, polls: number, signal?: AbortSignal): Promise<void> {
    const e = record.execution;
    const uuid = e.uuid;
    const poll = (cap = Infinity) => { throw new Later(Math.min(cap, Date.now() + pollDelay(polls, timing))); };

    switch (phase) {
      case 'ACCEPTED':
        await move(uuid, 'ACCEPTED', 'WAITING', 'waiting for the booked start');
        return;
      case 'WAITING':
      case 'PREPARING': {
        const result = await prepareComponents(record, phase, signal);
        if (result === 'failed') return;
        const deadline = prepareDeadline(record);
        // Too late is a failure whatever finished meanwhile: the program could no longer run its booked time.
        if (Date.now() > deadline) {
          const pending = inPrepareOrder(record).filter((c) => c.phase !== 'AVAILABLE').map((c) => c.name ?? c.role);
          return fail(record, phase, [message('urn:prepare-timeout', 'ERROR',
            'Not ready by {deadline}, the latest the offer allows{pending}', {
              deadline: new Date(deadline).toISOString(), pending: pending.length ? `: ${pending.join(', ')} still preparing` : '',
            })]);
        }
        const anyStarted = record.components.some((c) => c.phase !== 'WAITING' && c.phase !== 'INITIALIZING' && c.role !== 'volume');
        if (phase === 'WAITING') {
          if (anyStarted || result === 'available') await move(uuid, 'WAITING', 'PREPARING', 'preparing on the platform');
          else throw new Later(e.prepare_start.getTime());
          return;
        }
        if (result === 'available') {
          await setPlatformState(db, uuid, { access: accessOf(record) });
          await move(uuid, 'PREPARING', 'AVAILABLE', 'the executable is available');
          return;
        }
        // Poll what is preparing, but wake no later than the booked start.
        return poll(e.prepare_start.getTime() > Date.now() ? e.prepare_start.getTime() : Infinity);
      }
      case 'AVAILABLE': {
        const exe = record.components.find((c) => c.role === 'executable');
        if (!exe) {
          if (Date.now() >= e.release_start.getTime()) await move(uuid, 'AVAILABLE', 'RELEASING', 'the booked duration ended');
          else throw new Later(e.release_start.getTime());
          return;
        }
        const ctx = contextFor(record, exe);
        const s = await platform.status(ctx);
        await save(ctx, s);
        if (s.status === 'failed') {
          return fail(record, 'AVAILABLE', [message('urn:platform-failure', 'ERROR', 'The executable failed: {reason}', { reason: s.reason })], exe);
        }
        if (s.status === 'available') await outputs.live(ctx);
        if (s.status === 'finished') {
          await keepOutput(ctx);
          if (s.exitCode !== 0) {
            return fail(record, 'AVAILABLE', [message('urn:exit-code', 'ERROR', 'The executable exited with code {code}: {log}', {
              code: s.exitCode, log: (s.logTail ?? []).join('\n'),
            })], exe);
          }
          await appendComponentMessages(db, exe.uuid, [message('urn:exit-code', 'INFO', 'The executable exited with code {code}: {log}', {
            code: 0, log: (s.logTail ?? []).join('\n'),
          })]);
          await move(uuid, 'AVAILABLE', 'RELEASING', 'the executable finished');
          return;
        }
        const end = e.release_start.getTime();
        if (Date.now() >= end) {
          await move(uuid, 'AVAILABLE', 'RELEASING', 'the booked duration ended');
          return;
        }
        return poll(end);
      }
      case 'RELEASING': {
        if (!(await releaseComponents(record, true))) return poll();
        // COMPLETED gives back the booking in the same transaction.
        if (await transitionExecution(db, uuid, 'RELEASING', 'COMPLETED', 'released')) deps.onTransition?.(uuid, 'RELEASING', 'COMPLETED');
        return;
      }
      case 'CANCELLED':
      case 'FAILED': {
        if (!(await releaseComponents(record, false))) return poll();
        await releaseExecutionBookings(db, uuid);
        return;
      }
      default:
        logger.warn({ uuid, phase }, 'no step for this phase');
    }
  }

  return async function processStep(job: Job<StepJob>, token?: string): Promise<void> {
    const { uuid, phase } = job.data;
    const record = await findExecutionForStep(db, uuid);
    // Stale: the execution moved on (release jobs stay useful after FAILED/CANCELLED only).
    if (!record || record.execution.phase !== phase) return;
    const polls = job.data.polls ?? 0;
    const preparing = phase === 'WAITING' || phase === 'PREPARING';
    const watch = preparing ? watchStep(db, uuid, phase, prepareDeadline(record)) : undefined;
    try {
      await step(record, phase, polls, watch?.signal);
    } catch (err) {
      if (err instanceof Later) {
        await job.updateData({ ...job.data, polls: polls + 1 });
        await job.moveToDelayed(Math.max(err.at, Date.now()), token);
        throw new DelayedError();
      }
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (err instanceof PermanentPlatformError || last) {
        logger.warn({ uuid, phase, err: (err as Error).message }, 'step failed for good');
        const m = message('urn:platform-failure', 'ERROR', 'Step {phase} failed: {reason}', { phase, reason: (err as Error).message });
        if (phase === 'FAILED' || phase === 'CANCELLED') {
          await appendExecutionMessages(db, uuid, [m]);
          throw err;
        }
        const current = await findExecutionForStep(db, uuid);
        if (current?.execution.phase === phase) await fail(current, phase, [m]);
        return;
      }
      throw err;
    } finally {
      watch?.stop();
    }
  };
}
