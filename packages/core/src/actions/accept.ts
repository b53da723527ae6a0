import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { acceptExecution, type Db, type AcceptOutcome } from '@eb/db';
import { enqueueStep, type StepJob } from '../queue/steps.js';

/**
 * Accepts an offer and hands it to the workers. The database commit is what counts: if Redis is
 * unreachable the step is still owed in PostgreSQL and the workers' reconciler enqueues it later.
 */
export async function acceptOffer(db: Db, queue: Queue<StepJob>, uuid: string, logger: Logger): Promise<AcceptOutcome> {
  const result = await acceptExecution(db, uuid);
  if (result.outcome === 'accepted') {
    await enqueueStep(queue, uuid, 'ACCEPTED').catch((err: unknown) =>
      logger.warn({ err, uuid }, 'could not enqueue the first step; the reconciler will'));
  }
  return result;
}
