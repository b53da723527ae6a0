import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { expireOffers, listOwedExecutions, pruneCapacityBuckets, type Db } from '@eb/db';
import { enqueueStep, stepJobId, type StepJob } from '@eb/core';

export interface ReconcileReport {
  expired: number;
  enqueued: number;
}

/**
 * PostgreSQL says which steps are owed; Redis only carries them. This finds owed steps with no live
 * job (Redis flushed or restarted, a worker killed between commit and enqueue) and enqueues them again,
 * expires lapsed offers, and drops empty capacity buckets of days gone by. Safe to run from every worker at once: job ids are deterministic.
 * Only the platform's own executions: another platform's are its workers' business.
 */
export async function reconcileOnce(db: Db, queue: Queue<StepJob>, platform: string, logger: Logger): Promise<ReconcileReport> {
  const expired = await expireOffers(db);
  await pruneCapacityBuckets(db, platform);
  let enqueued = 0;
  for (const { uuid, phase, prepare_start } of await listOwedExecutions(db, platform)) {
    const id = stepJobId(uuid, phase);
    const job = await queue.getJob(id);
    if (job) {
      const state = await job.getState();
      // Parked for a start that was moved earlier while its step ran: due now.
      if (state === 'delayed' && phase === 'WAITING' && prepare_start.getTime() <= Date.now()) await job.promote().catch(() => undefined);
      if (state !== 'failed' && state !== 'completed' && state !== 'unknown') continue;
      await job.remove().catch(() => undefined);
    }
    await enqueueStep(queue, uuid, phase);
    enqueued += 1;
  }
  if (expired.length || enqueued) logger.info({ expired: expired.length, enqueued }, 'reconciled');
  return { expired: expired.length, enqueued };
}

export function startReconciler(db: Db, queue: Queue<StepJob>, platform: string, logger: Logger, everyMs: number, onReport?: (r: ReconcileReport) => void): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    running = reconcileOnce(db, queue, platform, logger)
      .then((r) => onReport?.(r))
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'reconcile failed; will retry'))
      .finally(() => { if (!stopped) timer = setTimeout(tick, everyMs); });
  };
  let timer = setTimeout(tick, 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
