import { DelayedError, type Job } from 'bullmq';
import { findExecutionForStep, findExecutionRow } from '@eb/db';
import type { StepJob } from '@eb/core';
import { PermanentPlatformError } from '../platforms/adapter.js';
import { outputCapture } from './output.js';
import { endWatch } from './end-watch.js';
import { Pass, type StepDeps } from './pass.js';
import { again, lookAt, type Next } from './next.js';
import { phaseActions } from './phases/index.js';
import { prepareDeadline } from './phases/deadline.js';
import { watchStep } from './watch.js';

export type { StepDeps } from './pass.js';

/** Phase actions one pass runs at most (a batch execution goes ACCEPTED to COMPLETED in six). */
const MAX_ACTIONS = 12;
/**
 * The queue priority of an execution's job once it is in service (BullMQ takes jobs without a priority
 * first): accepted executions are brought into service before the ones in service are looked at again.
 */
const IN_SERVICE_PRIORITY = 1;
/** Errors in one phase before the execution fails (each retried after a growing wait). */
const MAX_ERRORS = 8;

/**
 * The worker's step is a reconcile: the job is the execution's key; each pass reads the execution as
 * stored, runs its phase's action (phases/), and on a phase change the next one, until an action says
 * when to look again (the job then sleeps until then) or that nothing more is owed (the job ends).
 * A platform error is retried after a growing wait, and fails the execution when it is permanent or
 * keeps happening. Anyone who changes an execution (accept, cancel, an earlier start) wakes its job.
 */
export function createStepProcessor(deps: StepDeps & { onAction?: (phase: string, seconds: number) => void }) {
  const { db, logger } = deps;
  const outputs = outputCapture(db, deps.platform, deps.outputs ?? { everyMs: 5000, maxBytes: 2 ** 20 }, logger);
  const watchEnd = endWatch(deps.platform, deps.queue, logger);

  /** Runs one phase's action; errors become a later look (or a failure), never an exception. */
  async function act(job: Job<StepJob>, pass: Pass): Promise<Next> {
    const phase = pass.execution.phase;
    const started = performance.now();
    try {
      const next = await phaseActions[phase](pass);
      // What the action learnt of its components and did not store with a move is stored now.
      await pass.flush();
      return next;
    } catch (err) {
      // Kept before the error counts: what was made on the platform must not be forgotten.
      await pass.flush().catch((e: unknown) => logger.warn({ uuid: pass.uuid, err: (e as Error).message }, 'could not keep what the step learnt'));
      const errors = (job.data.phase === phase ? job.data.errors ?? 0 : 0) + 1;
      const reason = (err as Error).message;
      if (err instanceof PermanentPlatformError || errors >= MAX_ERRORS || phase === 'FAILED' || phase === 'CANCELLED') {
        logger.warn({ uuid: pass.uuid, phase, err: reason }, errors >= MAX_ERRORS ? 'step failed for good' : 'step failed');
      }
      if ((err instanceof PermanentPlatformError || errors >= MAX_ERRORS) && phase !== 'FAILED' && phase !== 'CANCELLED') {
        await pass.failStep(phase, reason);
        return again;
      }
      await job.updateData({ ...job.data, phase, errors });
      return lookAt(Date.now() + Math.min(30_000, 500 * 2 ** (errors - 1)));
    } finally {
      deps.onAction?.(phase, (performance.now() - started) / 1000);
    }
  }

  return async function processStep(job: Job<StepJob>, token?: string): Promise<void> {
    const { uuid } = job.data;
    let record = await findExecutionForStep(db, uuid);
    for (let actions = 0; actions < MAX_ACTIONS; actions++) {
      if (!record) return;
      const phase = record.execution.phase;
      const polls = job.data.phase === phase ? job.data.polls ?? 0 : 0;
      const preparing = phase === 'ACCEPTED' || phase === 'WAITING' || phase === 'PREPARING';
      const watch = preparing ? watchStep(db, uuid, phase, prepareDeadline({ execution: record.execution, deps })) : undefined;
      let next: Next;
      const pass = new Pass(record, deps, outputs, watchEnd, polls, watch?.signal);
      try {
        next = await act(job, pass);
      } finally {
        watch?.stop();
      }
      if (next.kind === 'done') return;
      if (next.kind === 'again') {
        // Its own moves are in the record already; anything else it found changed is read again.
        if (pass.stale) record = await findExecutionForStep(db, uuid);
        if (record?.execution.phase === 'AVAILABLE' && phase !== 'AVAILABLE' && !job.priority && (await deps.queue.getWaitingCount()) > 0) {
          // In service now: what comes after waits behind executions still to be brought into service
          // (when there are any: otherwise it goes on at once).
          await job.changePriority({ priority: IN_SERVICE_PRIORITY });
          // Polls and errors counted in an earlier phase do not carry over.
          if (job.data.phase !== undefined) await job.updateData({ uuid });
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        continue;
      }
      // Someone may have changed it while this pass looked (a cancel, an earlier start, a longer booking):
      // if so, look again now rather than sleep on what is out of date.
      const now = await findExecutionRow(db, uuid);
      if (!now || now.phase !== record.execution.phase || now.modified.getTime() !== record.execution.modified.getTime()) {
        record = await findExecutionForStep(db, uuid);
        continue;
      }
      const errors = job.data.phase === phase ? job.data.errors ?? 0 : 0;
      await job.updateData({ uuid, phase, polls: polls + 1, ...(errors ? { errors } : {}) });
      await job.moveToDelayed(Math.max(next.at, Date.now()), token);
      throw new DelayedError();
    }
    // Many phase changes in one pass (never expected): carry on in a moment rather than loop here.
    await job.moveToDelayed(Date.now() + 100, token);
    throw new DelayedError();
  };
}
