import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { ExecutionPhase } from '@eb/schema';

// The contract between the APIs (which enqueue) and the platform workers (which process). Each platform
// has its own queue: a worker takes steps only for executions booked on the platform it drives.
export function stepQueueName(platform: string): string {
  return `eb-steps.${platform}`;
}

/**
 * The queue item is the execution's key: one job per execution, whatever its phase. A worker's pass
 * reads the execution as stored and does what its phase calls for; the job then sleeps until the pass
 * says to look again, and ends when nothing more is owed.
 */
export interface StepJob {
  uuid: string;
  /** The phase `polls` counts for: the polling backoff starts again in each phase. */
  phase?: ExecutionPhase;
  /** How many times the pass has polled the platform in `phase`. */
  polls?: number;
  /** How many passes in `phase` have failed in a row: the retry backoff. */
  errors?: number;
}

/** Adding it again while it waits, sleeps or runs is a no-op in BullMQ: at most one per execution. */
export function stepJobId(uuid: string): string {
  return uuid;
}

export function redisConnection(url: string): Redis {
  // BullMQ workers block on Redis; they must retry for ever rather than fail a command.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export function queuePrefix(): string {
  return process.env.EB_QUEUE_PREFIX ?? 'eb';
}

export function createStepQueue(connection: ConnectionOptions, platform: string, prefix = queuePrefix()): Queue<StepJob> {
  return new Queue<StepJob>(stepQueueName(platform), { connection, prefix });
}

/** The step queues of every platform an API may enqueue for, opened on first use. */
export class StepQueues {
  private readonly queues = new Map<string, Queue<StepJob>>();

  constructor(private readonly connection: ConnectionOptions, private readonly prefix = queuePrefix()) {}

  for(platform: string): Queue<StepJob> {
    let q = this.queues.get(platform);
    if (!q) {
      q = createStepQueue(this.connection, platform, this.prefix);
      this.queues.set(platform, q);
    }
    return q;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

export const stepJobOptions = {
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600, count: 10_000 },
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
} as const;

/** When a sleeping job is due (ms), from its score in the delayed set (timestamp * 0x1000 + a counter). */
async function dueAt(queue: Queue<StepJob>, id: string): Promise<number | undefined> {
  const score = await (await queue.client).zscore(queue.keys.delayed!, id);
  return score === null ? undefined : Math.floor(Number(score) / 0x1000);
}

/**
 * Queues a just-accepted execution's first look: one round trip to Redis. A job of the same id can only
 * be there already if a reconciler has just added it, and then it is the one that runs.
 */
export async function queueFirstStep(queue: Queue<StepJob>, uuid: string): Promise<void> {
  await queue.add('reconcile', { uuid }, { ...stepJobOptions, jobId: stepJobId(uuid) });
}

/**
 * Makes sure the execution is looked at within `delayMs`: adds its job, or brings a sleeping one
 * forward (never back). A pass under way may have read the execution before what the caller changed:
 * this waits for it to park or end (briefly), then brings it forward or adds the job again.
 */
export async function wakeExecution(queue: Queue<StepJob>, uuid: string, delayMs = 0): Promise<void> {
  const at = Date.now() + Math.max(0, delayMs);
  for (let tries = 0; tries < 80; tries++) {
    const job = await queue.getJob(stepJobId(uuid));
    if (!job) {
      await queue.add('reconcile', { uuid }, { ...stepJobOptions, jobId: stepJobId(uuid), delay: Math.max(0, at - Date.now()) });
      return;
    }
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') {
      await job.remove().catch(() => undefined);
      continue;
    }
    if (state === 'delayed') {
      const due = await dueAt(queue, job.id!);
      if (due === undefined || due > at) {
        if (at <= Date.now()) await job.promote().catch(() => undefined);
        else await job.changeDelay(at - Date.now()).catch(() => undefined);
      }
      return;
    }
    if (state !== 'active') return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
