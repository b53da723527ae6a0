import type { Logger } from 'pino';
import { acceptExecution, type Db, type AcceptOutcome } from '@eb/db';
import { enqueueStep, type StepQueues } from '../queue/steps.js';

/**
 * Accepts an offer and hands it to the workers. The database commit is what counts: if Redis is
 * unreachable the step is still owed in PostgreSQL and the workers' reconciler enqueues it later.
 */
export async function acceptOffer(db: Db, queues: StepQueues, uuid: string, logger: Logger): Promise<AcceptOutcome> {
  const result = await acceptExecution(db, uuid);
  if (result.outcome === 'accepted') {
    await enqueueStep(queues.for(result.platform), uuid, 'ACCEPTED').catch((err: unknown) =>
      logger.warn({ err, uuid }, 'could not enqueue the first step; the reconciler will'));
  }
  return result;
}
