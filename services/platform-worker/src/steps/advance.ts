import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { message, type ExecutionPhase, type MessageItem } from '@eb/schema';
import {
  appendExecutionMessages, findExecution, releaseExecutionBookings, setPlatformState, transitionExecution,
  type Db, type ExecutionRecord,
} from '@eb/db';
import { enqueueStep, type StepJob } from '@eb/core';
import { PermanentPlatformError, type PlatformAdapter, type PlatformContext, type StepOutput } from '../platforms/adapter.js';
import { pollDelay, type StepTiming } from './timing.js';

export interface StepDeps {
  db: Db;
  queue: Queue<StepJob>;
  platform: PlatformAdapter;
  timing: StepTiming;
  logger: Logger;
  onTransition?: (uuid: string, from: ExecutionPhase, to: ExecutionPhase) => void;
}

/** Thrown by a step that must run again later; the job is parked as delayed, not retried. */
class Later {
  constructor(readonly at: number) {}
}

/**
 * Runs one step of one execution. Each job names the phase it was made for; if the execution has
 * moved on, the job is stale and does nothing. Every move is a compare-and-set in PostgreSQL, so a
 * job run twice (worker killed, Redis restored, reconciler re-enqueued) applies its change once.
 */
export function createStepProcessor(deps: StepDeps) {
  const { db, platform, timing, logger } = deps;

  async function save(uuid: string, out: StepOutput, ctx: PlatformContext): Promise<void> {
    if (out.state && Object.keys(out.state).length) {
      await setPlatformState(db, uuid, out.state);
      Object.assign(ctx.state, out.state);
    }
    if (out.messages?.length) await appendExecutionMessages(db, uuid, out.messages);
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

  async function fail(uuid: string, from: ExecutionPhase, messages: MessageItem[], to: 'FAILED' | 'CANCELLED' = 'FAILED'): Promise<void> {
    await appendExecutionMessages(db, uuid, messages);
    await move(uuid, from, to, messages[0]?.message ?? to.toLowerCase());
  }

  async function step(record: ExecutionRecord, phase: ExecutionPhase, polls: number): Promise<void> {
    const e = record.execution;
    const uuid = e.uuid;
    const ctx: PlatformContext = { record, state: { ...e.platform_state } };
    const poll = () => { throw new Later(Date.now() + pollDelay(polls, timing)); };

    switch (phase) {
      case 'ACCEPTED':
        await move(uuid, 'ACCEPTED', 'WAITING', 'waiting for the booked start', e.prepare_start.getTime());
        return;
      case 'WAITING': {
        if (Date.now() < e.prepare_start.getTime()) throw new Later(e.prepare_start.getTime());
        await save(uuid, await platform.prepare(ctx), ctx);
        await move(uuid, 'WAITING', 'PREPARING', 'preparing on the platform');
        return;
      }
      case 'PREPARING': {
        const s = await platform.status(ctx);
        await save(uuid, s, ctx);
        if (s.status === 'failed') return fail(uuid, 'PREPARING', [message('urn:platform-failure', 'ERROR', 'Preparation failed: {reason}', { reason: s.reason })]);
        if (s.status === 'preparing') {
          const deadline = e.available_start.getTime() + timing.prepareGraceMs;
          if (Date.now() > deadline) {
            return fail(uuid, 'PREPARING', [message('urn:prepare-timeout', 'ERROR',
              'Preparation was not done by {deadline}, the latest the offer allows', { deadline: new Date(deadline).toISOString() })], 'CANCELLED');
          }
          return poll();
        }
        if (s.status === 'ready') await save(uuid, await platform.start(ctx), ctx);
        await move(uuid, 'PREPARING', 'AVAILABLE', 'the executable is available');
        return;
      }
      case 'AVAILABLE': {
        const s = await platform.status(ctx);
        if (s.status === 'running' && s.access?.length) s.state = { ...s.state, access: s.access };
        await save(uuid, s, ctx);
        if (s.status === 'failed') return fail(uuid, 'AVAILABLE', [message('urn:platform-failure', 'ERROR', 'The executable failed: {reason}', { reason: s.reason })]);
        if (s.status === 'finished') {
          if (s.exitCode !== 0) {
            return fail(uuid, 'AVAILABLE', [message('urn:exit-code', 'ERROR', 'The executable exited with code {code}: {log}', {
              code: s.exitCode, log: (s.logTail ?? []).join('\n'),
            })]);
          }
          await appendExecutionMessages(db, uuid, [message('urn:exit-code', 'INFO', 'The executable exited with code {code}', { code: 0 })]);
          await move(uuid, 'AVAILABLE', 'RELEASING', 'the executable finished');
          return;
        }
        const end = e.release_start.getTime();
        if (Date.now() >= end) {
          await move(uuid, 'AVAILABLE', 'RELEASING', 'the booked duration ended');
          return;
        }
        throw new Later(Math.min(end, Date.now() + pollDelay(polls, timing)));
      }
      case 'RELEASING': {
        const r = await platform.release(ctx);
        await save(uuid, r, ctx);
        if (!r.done) return poll();
        // COMPLETED gives back the booking in the same transaction.
        if (await transitionExecution(db, uuid, 'RELEASING', 'COMPLETED', 'released')) deps.onTransition?.(uuid, 'RELEASING', 'COMPLETED');
        return;
      }
      case 'CANCELLED':
      case 'FAILED': {
        const r = await platform.release(ctx);
        await save(uuid, r, ctx);
        if (!r.done) return poll();
        await releaseExecutionBookings(db, uuid);
        return;
      }
      default:
        logger.warn({ uuid, phase }, 'no step for this phase');
    }
  }

  return async function processStep(job: Job<StepJob>, token?: string): Promise<void> {
    const { uuid, phase } = job.data;
    const record = await findExecution(db, uuid);
    if (!record || record.execution.phase !== phase) {
      // Stale: the execution moved on. Release jobs stay useful after FAILED/CANCELLED only.
      return;
    }
    const polls = job.data.polls ?? 0;
    try {
      await step(record, phase, polls);
    } catch (err) {
      if (err instanceof Later) {
        await job.updateData({ ...job.data, polls: polls + 1 });
        await job.moveToDelayed(err.at, token);
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
        await fail(uuid, phase, [m]);
        return;
      }
      throw err;
    }
  };
}
