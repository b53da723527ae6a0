import type { Logger } from 'pino';
import { acceptExecution, type Db, type AcceptOutcome, type OwnerQuota } from '@eb/db';
import { queueFirstStep, type StepQueues } from '../queue/steps.js';

/**
 * Accepts an offer and hands it to the workers. The database commit is what counts: if Redis is
 * unreachable the step is still owed in PostgreSQL and the workers' reconciler enqueues it later.
 */
export async function acceptOffer(db: Db, queues: StepQueues, uuid: string, logger: Logger, quota: OwnerQuota = ownerQuotaFromEnv()): Promise<AcceptOutcome> {
  const result = await acceptExecution(db, uuid, quota);
  if (result.outcome === 'accepted') {
    await queueFirstStep(queues.for(result.platform), uuid).catch((err: unknown) =>
      logger.warn({ err, uuid }, 'could not enqueue the first step; the reconciler will'));
  }
  return result;
}

/** The user-quota policy's limits (EB_POLICY_QUOTA_CORES, EB_POLICY_QUOTA_MEMORY_GIB), enforced again at acceptance. */
export function ownerQuotaFromEnv(): OwnerQuota {
  const n = (v: string | undefined) => (v ? Number(v) : undefined);
  const cores = n(process.env.EB_POLICY_QUOTA_CORES);
  const memoryGib = n(process.env.EB_POLICY_QUOTA_MEMORY_GIB);
  return { ...(cores !== undefined ? { cores } : {}), ...(memoryGib !== undefined ? { memoryGib } : {}) };
}
