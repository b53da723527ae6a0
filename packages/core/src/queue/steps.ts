import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { ExecutionPhase } from '@eb/schema';

// The contract between the APIs (which enqueue) and the platform workers (which process). Each platform
// has its own queue: a worker takes steps only for executions booked on the platform it drives.
export function stepQueueName(platform: string): string {
  return `eb-steps.${platform}`;
}

export interface StepJob {
  uuid: string;
  /** The phase the execution must still be in for this step to apply. */
  phase: ExecutionPhase;
  /** How many times this step has polled the platform; drives the polling backoff. */
  polls?: number;
}

/**
 * One job per (execution, phase): adding it again while it is waiting, delayed or active is a no-op
 * in BullMQ, and a copy that slips through finds the execution already moved on and does nothing.
 */
export function stepJobId(uuid: string, phase: ExecutionPhase): string {
  return `${uuid}.${phase}`;
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

export async function enqueueStep(queue: Queue<StepJob>, uuid: string, phase: ExecutionPhase, delayMs = 0): Promise<void> {
  await queue.add('step', { uuid, phase }, { ...stepJobOptions, jobId: stepJobId(uuid, phase), delay: Math.max(0, delayMs) });
}
