import { Worker } from 'bullmq';
import { sql } from 'kysely';
import { connectDatabase, countExecutionsByPhase, declareEngineCapacity, declarePlatformAbilities, migrateToLatest } from '@eb/db';
import { createStepQueue, envDurationMs, envInt, envString, platformConfig, queuePrefix, redisConnection, stepQueueName, type StepJob } from '@eb/core';
import { createLogger, createMetrics, listenGracefully, serviceShell } from '@eb/http-kit';
import { sealerFromEnv } from '@eb/core';
import { startRefresher } from './credentials/refresher.js';
import { createStepProcessor } from './steps/process.js';
import { stepTiming } from './steps/timing.js';
import { outputSettings } from './steps/output.js';
import { startReconciler } from './reconcile/reconciler.js';
import { EarlyStarter } from './schedule/start-early.js';
import { choosePlatform } from './platforms/choose.js';
import { DockerPlatform } from './platforms/docker/index.js';
import { engineCapacity } from './platforms/docker/capacity.js';

const logger = createLogger('platform-worker');
// Every write of a worker is redone if lost (compare-and-set moves, idempotent platform calls): no need to
// wait for each one's WAL flush.
const database = connectDatabase(envString('DATABASE_URL'), { applicationName: 'platform-worker', max: envInt('EB_DB_POOL', 20), relaxedCommit: true });
if (process.env.EB_MIGRATE_ON_START !== 'false') await migrateToLatest(database.db);
const redisUrl = envString('REDIS_URL', 'redis://127.0.0.1:6379');
const queueRedis = redisConnection(redisUrl);
const workerRedis = redisConnection(redisUrl);
for (const r of [queueRedis, workerRedis]) r.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
const platformName = platformConfig().name;
const queue = createStepQueue(queueRedis, platformName);
const { adapter: platform, abilities } = await choosePlatform(logger, database.db);
if (platform instanceof DockerPlatform) {
  // The engine's own figures bound what may be promised; without EB_CAPACITY_* they are the capacity.
  const declared = {
    ...(process.env.EB_CAPACITY_CORES ? { cores: platformConfig().cores } : {}),
    ...(process.env.EB_CAPACITY_MEMORY_GIB ? { memoryGib: platformConfig().memoryGib } : {}),
    storageGib: platformConfig().storageGib,
  };
  const capacity = await declareEngineCapacity(database.db, platformName, await engineCapacity(platform.docker), declared);
  logger.info({ capacity }, 'capacity from the Docker engine');
}
// The offer-set API offers only what a worker of this platform said it can do.
await declarePlatformAbilities(database.db, platformConfig(), abilities);
const metrics = createMetrics('platform-worker');
const transitions = metrics.counter('eb_phase_transitions_total', 'Phase transitions applied by workers', ['from', 'to']);
const stepErrors = metrics.counter('eb_step_errors_total', 'Steps that threw (platform call errors included)', ['phase']);
const stepSeconds = metrics.histogram('eb_step_duration_seconds', 'Time a worker spent on one phase action, by phase', ['phase'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
const expiredOffers = metrics.counter('eb_offers_expired_total', 'Offers that expired unaccepted (found by this worker)');
metrics.gauge('eb_executions', 'Executions on this platform, by phase', ['phase'], async (g) => {
  g.reset();
  for (const { phase, count } of await countExecutionsByPhase(database.db, platformName)) g.set({ phase }, count);
});
metrics.gauge('eb_queue_jobs', 'Step jobs in the platform\'s queue, by state', ['state'], async (g) => {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  for (const [state, n] of Object.entries(counts)) g.set({ state }, n);
});

const earlyStarter = new EarlyStarter(database.db, queue, platformName, logger);
const processStep = createStepProcessor({
  db: database.db, queue, platform, timing: stepTiming(), logger, outputs: outputSettings(),
  onTransition: (_uuid, from, to) => transitions.inc({ from, to }),
  onCapacityFreed: () => earlyStarter.poke(),
  onAction: (phase, seconds) => stepSeconds.observe({ phase }, seconds),
});
const worker = new Worker<StepJob>(stepQueueName(platformName), processStep, {
  connection: workerRedis,
  prefix: queuePrefix(),
  concurrency: envInt('EB_WORKER_CONCURRENCY', 20),
  // A worker that dies holding a step loses its lock after this; another worker then takes the step.
  lockDuration: envDurationMs('EB_LOCK_DURATION', 'PT30S'),
  stalledInterval: envDurationMs('EB_STALLED_INTERVAL', 'PT30S'),
});
worker.on('failed', (job, err) => {
  stepErrors.inc({ phase: job?.data.phase ?? 'pass' });
  logger.warn({ job: job?.id, err: err.message }, 'step failed');
});
worker.on('error', (err) => logger.warn({ err: err.message }, 'worker'));
const stopReconciler = startReconciler(database.db, queue, platformName, logger, envDurationMs('EB_RECONCILE_EVERY', 'PT5S'),
  (report) => {
    expiredOffers.inc(report.expired);
    // Capacity may also have been given back elsewhere (a cancel through the API, a lapsed hold).
    earlyStarter.poke();
  });
const sealer = sealerFromEnv();
const stopRefresher = sealer
  ? startRefresher(database.db, queue, platformName, sealer, {
    ...(process.env.EB_OIDC_TOKEN_URL ? { tokenUrl: process.env.EB_OIDC_TOKEN_URL } : {}),
    ...(process.env.EB_OIDC_ISSUER ? { issuer: process.env.EB_OIDC_ISSUER } : {}),
    ...(process.env.EB_OIDC_CLIENT_ID ? { clientId: process.env.EB_OIDC_CLIENT_ID } : {}),
    ...(process.env.EB_OIDC_CLIENT_SECRET ? { clientSecret: process.env.EB_OIDC_CLIENT_SECRET } : {}),
    aheadMs: envDurationMs('EB_REFRESH_AHEAD', 'PT5M'),
  }, logger, envDurationMs('EB_REFRESH_EVERY', 'PT30S'))
  : async () => undefined;
logger.info({ platform: platform.name, name: platformName }, 'worker started');

const shell = serviceShell({
  logger, metrics,
  ready: async () => {
    await sql`select 1`.execute(database.db);
    return worker.isRunning();
  },
});
shell.finish();
await listenGracefully(shell.app, envInt('PORT', 8083), process.env.HOST ?? '127.0.0.1', logger, async () => {
  // close() lets steps in flight finish; a step cut short is retried by BullMQ or re-enqueued by a reconciler.
  await stopReconciler();
  await earlyStarter.idle();
  await stopRefresher();
  await worker.close();
  await platform.close?.();
  await queue.close();
  queueRedis.disconnect();
  workerRedis.disconnect();
  await database.close();
});
