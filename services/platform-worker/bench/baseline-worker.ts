// The lifecycle baseline's worker: raw BullMQ running chains of steps, each step one compare-and-set
// in PostgreSQL and then the next step enqueued, with nothing else (no platform, no phase tables).
import { Queue, Worker } from 'bullmq';
import { advanceBaselineChain, connectDatabase } from '@eb/db';
import { envInt, envString, redisConnection } from '@eb/core';

export interface ChainJob { id: number; step: number }

const steps = envInt('BENCH_STEPS', 6);
const prefix = envString('EB_QUEUE_PREFIX');
const database = connectDatabase(envString('DATABASE_URL'), { max: 20, applicationName: 'bench-baseline-worker' });
const queue = new Queue<ChainJob>('bench-chains', { connection: redisConnection(envString('REDIS_URL')), prefix });
const worker = new Worker<ChainJob>('bench-chains', async (job) => {
  const { id, step } = job.data;
  if (await advanceBaselineChain(database.db, id, step) && step + 1 < steps) {
    await queue.add('step', { id, step: step + 1 }, { jobId: `${id}.${step + 1}`, removeOnComplete: true });
  }
}, { connection: redisConnection(envString('REDIS_URL')), prefix, concurrency: envInt('EB_WORKER_CONCURRENCY', 50) });
await worker.waitUntilReady();
process.send?.('ready');
process.on('SIGTERM', () => {
  void worker.close().then(() => queue.close()).then(() => database.close()).then(() => process.exit(0));
});
