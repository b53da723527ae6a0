import { Worker } from 'bullmq';
import { acceptExecution, findExecution, type DatabaseHandle, type ExecutionRecord, type PlatformCapacity } from '@eb/db';
import { StepQueues, keepCredential, wakeExecution, redisConnection, stepQueueName, type Sealer, type StepJob } from '@eb/core';
import { quietLogger, redisUrl, testDatabase, testPlatform, uniquePrefix, until } from '@eb/tests/support/env.js';
import { storeOfferSet, type OfferSpec } from '@eb/tests/support/offers.js';
import { createStepProcessor } from '../src/steps/process.js';
import type { PlatformAdapter } from '../src/platforms/adapter.js';
import type { StepTiming } from '../src/steps/timing.js';
import { EarlyStarter } from '../src/schedule/start-early.js';
import type { OutputSettings } from '../src/steps/output.js';

const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * A worker in this process, on a platform and a queue of its own, over the real PostgreSQL and Redis:
 * what each platform's tests need to accept executions and follow them to their end.
 */
export interface Harness {
  db: DatabaseHandle;
  platform: string;
  queues: StepQueues;
  queue: ReturnType<StepQueues['for']>;
  /** Stores an offer as the offer-set API would, accepts it and (unless told not to) queues its first step. */
  run(spec: OfferSpec, opts?: { enqueue?: boolean; owner?: { token: string; sealer: Sealer } }): Promise<string>;
  /** The execution once it has ended and given back its booking. */
  ended(uuid: string, timeoutMs?: number): Promise<ExecutionRecord>;
  /** The execution once it is in `phase`. */
  inPhase(uuid: string, phase: string, timeoutMs?: number): Promise<ExecutionRecord>;
  /** Starts waiting executions early as capacity frees up, as the worker process does. */
  starter: EarlyStarter;
  stop(): Promise<void>;
}

export async function startHarness(adapter: PlatformAdapter, opts: { timing?: Partial<StepTiming>; capacity?: Partial<Omit<PlatformCapacity, 'name'>>; concurrency?: number; outputs?: OutputSettings } = {}): Promise<Harness> {
  const db = testDatabase();
  const prefix = uniquePrefix();
  const queueRedis = redisConnection(redisUrl());
  const workerRedis = redisConnection(redisUrl());
  const queues = new StepQueues(queueRedis, prefix);
  const platform = (await testPlatform(db.db, opts.capacity)).name;
  const queue = queues.for(platform);
  const timing: StepTiming = { pollMinMs: 50, pollMaxMs: 200, prepareGraceMs: 30_000, ...opts.timing };
  const starter = new EarlyStarter(db.db, queue, platform, quietLogger);
  const processor = createStepProcessor({
    db: db.db, queue, platform: adapter, timing, logger: quietLogger, outputs: opts.outputs ?? { everyMs: 100, maxBytes: 2 ** 20 },
    onCapacityFreed: () => starter.poke(),
  });
  const worker = new Worker<StepJob>(stepQueueName(platform), processor,
    { connection: workerRedis, prefix, concurrency: opts.concurrency ?? 10 });
  const inPhase = (uuid: string, phase: string, timeoutMs = 30_000) => until(async () => {
    const r = await findExecution(db.db, uuid);
    return r?.execution.phase === phase ? r : undefined;
  }, timeoutMs, 50);
  return {
    db, platform, queues, queue, inPhase, starter,
    async run(spec, o = {}) {
      const set = await storeOfferSet(db.db, platform, [{ prepareMs: 1000, durationMs: 120_000, ...spec }]);
      const uuid = set.offers[0]!.uuid;
      const accepted = await acceptExecution(db.db, uuid);
      if (accepted.outcome !== 'accepted') throw new Error(`offer not accepted: ${accepted.outcome}`);
      if (o.owner) await keepCredential(db.db, o.owner.sealer, uuid, { subject: 'owner', token: o.owner.token, expiresAt: Date.now() + 3_600_000 });
      if (o.enqueue !== false) await wakeExecution(queue, uuid);
      return uuid;
    },
    ended: (uuid, timeoutMs = 30_000) => until(async () => {
      const r = await findExecution(db.db, uuid);
      const b = await db.db.selectFrom('bookings').select('released_at').where('execution_uuid', '=', uuid).executeTakeFirst();
      return r && TERMINAL.includes(r.execution.phase) && b?.released_at ? r : undefined;
    }, timeoutMs, 100),
    async stop() {
      await worker.close();
      await adapter.close?.();
      await starter.idle();
      await queue.obliterate({ force: true });
      await queues.close();
      queueRedis.disconnect();
      workerRedis.disconnect();
      await db.close();
    },
  };
}

export const messagesOf = (r: ExecutionRecord, role: string) => r.components.find((c) => c.role === role)!.messages;
export const executionPhases = (r: ExecutionRecord) => r.history.filter((h) => h.component_uuid === null).map((h) => h.phase);
