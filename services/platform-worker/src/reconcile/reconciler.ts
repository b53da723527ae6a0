import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { countReleases, expireOffers, listOwedExecutions, pruneCapacityBuckets, type Db } from '@eb/db';
import { stepJobId, wakeExecution, type StepJob } from '@eb/core';

export interface ReconcileReport {
  expired: number;
  enqueued: number;
}

/**
 * PostgreSQL says which executions are owed work; Redis only carries their jobs. This finds owed
 * executions with no live job (Redis flushed or restarted, a worker killed between commit and wake) and
 * adds it again, brings forward one sleeping past a start that was moved earlier, expires lapsed
 * offers, counts releases off the capacity buckets, and drops empty capacity buckets of days gone by.
 * Safe to run from every worker at once: the job's id is the execution's. Only the platform's own executions: another platform's are its workers'.
 */
export async function reconcileOnce(db: Db, queue: Queue<StepJob>, platform: string, logger: Logger): Promise<ReconcileReport> {
  const expired = await expireOffers(db);
  // Releases left uncounted (a worker stopped before its early-start pass) are counted here at the latest.
  await countReleases(db, platform);
  await pruneCapacityBuckets(db, platform);
  const jobless: string[] = [];
  for (const { uuid, phase, prepare_start } of await listOwedExecutions(db, platform)) {
    const job = await queue.getJob(stepJobId(uuid));
    const state = job ? await job.getState() : 'missing';
    if (state === 'missing' || state === 'failed' || state === 'completed' || state === 'unknown') {
      jobless.push(uuid);
    } else if (state === 'delayed' && (phase === 'ACCEPTED' || phase === 'WAITING')) {
      // Never later than its booked start, wherever that was moved meanwhile.
      await wakeExecution(queue, uuid, prepare_start.getTime() - Date.now());
    }
  }
  // Most executions without a job have just ended while this looked (their job done and gone): only
  // those still owed work as stored now are queued again.
  let enqueued = 0;
  for (const { uuid } of await listOwedExecutions(db, platform, jobless.length, jobless)) {
    await wakeExecution(queue, uuid);
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
