// The lifecycle under load, beside a baseline measured in the same run: 1,000 executions accepted in
// a burst on the simulated platform with no simulated delay, run by 2 worker processes; and raw BullMQ
// running 1,000 chains of the same number of steps on 2 worker processes, one PostgreSQL update per
// step (baseline-worker.ts). Prints throughput with the ratio, accept -> AVAILABLE, accepts/s, losses.
// The broker's workers run as deployed (20 passes at once each); the baseline's 50 jobs at once each.
// Run with: pnpm bench:lifecycle   (BENCH_EXECUTIONS, BENCH_WORKERS, BENCH_CONCURRENCY to change them)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { connectDatabase, countBaselineChainsAt, countExecutionsByPhase, createBaselineChains, findExecutions, migrateToLatest, upsertPlatform } from '@eb/db';
import { StepQueues, acceptOffer, envInt, envString, redisConnection } from '@eb/core';
import { storeSeparateOffers } from '@eb/tests/support/offers.js';
import type { ChainJob } from './baseline-worker.js';

const N = envInt('BENCH_EXECUTIONS', 1000);
const WORKERS = envInt('BENCH_WORKERS', 2);
const ACCEPTORS = 20;
// The phases a batch execution goes through once accepted, each a step of the worker.
const EXPECTED = ['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED'];
const STEPS = EXPECTED.length - 1;

const databaseUrl = envString('DATABASE_URL');
const redisUrl = envString('REDIS_URL', 'redis://127.0.0.1:6379');
const database = connectDatabase(databaseUrl, { max: 20, applicationName: 'bench-lifecycle' });
await migrateToLatest(database.db);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Every worker the bench starts goes with it, however it ends.
const spawned: ChildProcess[] = [];
process.on('exit', () => { for (const c of spawned) if (c.exitCode === null) c.kill('SIGKILL'); });

function spawnWorkers(script: string, env: Record<string, string>): ChildProcess[] {
  // BENCH_PROFILE=<dir>: each worker writes a CPU profile there when it stops (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const children = Array.from({ length: WORKERS }, (_, i) => spawn(process.execPath, [...profile, script], {
    env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(18_400 + i), LOG_LEVEL: 'warn', EB_MIGRATE_ON_START: 'false', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  }));
  spawned.push(...children);
  return children;
}
/** Waits until every worker answers /readyz (connected, its BullMQ worker running): the burst starts on ready workers. */
async function ready(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < count; i++) {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${18_400 + i}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`worker ${i} was not ready within a minute`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
const stopAll = (children: ChildProcess[]) => Promise.all(children.map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); })));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function broker() {
  const platform = `load-${randomUUID().slice(0, 8)}`;
  await upsertPlatform(database.db, { name: platform, cores: 100_000, memoryGib: 100_000, storageGib: 100_000 });
  const prefix = `load-${randomUUID().slice(0, 8)}`;
  const workers = spawnWorkers(here('../src/main.js'), {
    EB_QUEUE_PREFIX: prefix, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform,
    EB_SIM_PREPARE: '0', EB_SIM_RUN: '0', EB_SIM_RELEASE: '0', EB_WORKER_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '20',
    EB_RECONCILE_EVERY: process.env.BENCH_RECONCILE ?? 'PT5S',
  });
  const conn = redisConnection(redisUrl);
  const queues = new StepQueues(conn, prefix);
  const logger = pino({ level: 'silent' });
  const sets = await storeSeparateOffers(database.db, platform, Array.from({ length: N }, () => ({ prepareMs: 30_000, durationMs: 600_000 })));
  const uuids = sets.map((s) => s.offers[0]!.uuid);
  await ready(workers.length);
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: ACCEPTORS }, async () => {
    while (next < uuids.length) await acceptOffer(database.db, queues, uuids[next++]!, logger);
  }));
  const acceptSeconds = (Date.now() - started) / 1000;
  const terminal = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
  const deadline = Date.now() + 10 * 60_000;
  // A cheap count while they run (as the baseline's), the whole records once all have ended.
  const ended = async () => (await countExecutionsByPhase(database.db, platform)).filter((p) => terminal.has(p.phase)).reduce((n, p) => n + p.count, 0);
  while (Date.now() < deadline && (await ended()) < N) await new Promise((r) => setTimeout(r, 20));
  const records = await findExecutions(database.db, uuids);
  let duplicated = 0;
  let lost = 0;
  let last = started;
  const toAvailable: number[] = [];
  for (const r of records) {
    const phases = r.history.filter((h) => h.component_uuid === null).map((h) => h.phase);
    duplicated += phases.length - new Set(phases).size;
    if (phases.join() !== EXPECTED.join()) lost += 1;
    const at = (p: string) => r.history.find((h) => h.component_uuid === null && h.phase === p)?.at.getTime();
    const a = at('ACCEPTED');
    const b = at('AVAILABLE');
    if (a !== undefined && b !== undefined) toAvailable.push(b - a);
    last = Math.max(last, at('COMPLETED') ?? last);
  }
  await stopAll(workers);
  await queues.for(platform).obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  conn.disconnect();
  return { perSecond: N / ((last - started) / 1000), acceptsPerSecond: N / acceptSeconds, toAvailable, duplicated, lost };
}

async function baseline() {
  await createBaselineChains(database.db, N);
  const prefix = `chains-${randomUUID().slice(0, 8)}`;
  const workers = spawnWorkers(here('./baseline-worker.js'), { EB_QUEUE_PREFIX: prefix, BENCH_STEPS: String(STEPS), EB_WORKER_CONCURRENCY: '50' });
  const conn = redisConnection(redisUrl);
  const queue = new Queue<ChainJob>('bench-chains', { connection: conn, prefix });
  // Each baseline worker says so once its BullMQ worker is connected.
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const started = Date.now();
  await queue.addBulk(Array.from({ length: N }, (_, id) => ({ name: 'step', data: { id, step: 0 }, opts: { jobId: `${id}.0`, removeOnComplete: true } })));
  while ((await countBaselineChainsAt(database.db, STEPS)) < N) await new Promise((r) => setTimeout(r, 20));
  const seconds = (Date.now() - started) / 1000;
  await stopAll(workers);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  conn.disconnect();
  return { perSecond: N / seconds };
}

const base = await baseline();
const b = await broker();
console.log(`lifecycle ${N} executions, ${WORKERS} workers: broker ${b.perSecond.toFixed(1)} executions/s, `
  + `baseline ${base.perSecond.toFixed(1)} chains/s (${STEPS} BullMQ steps, one PostgreSQL update each), ratio ${(b.perSecond / base.perSecond).toFixed(2)}`);
console.log(`lifecycle accept -> AVAILABLE (no simulated delay, ${N} accepted in a burst): p50 ${pct(b.toAvailable, 50)} ms, p99 ${pct(b.toAvailable, 99)} ms; `
  + `accepts ${b.acceptsPerSecond.toFixed(0)}/s; lost ${b.lost}, duplicated ${b.duplicated}`);
await database.close();
process.exit(b.duplicated === 0 && b.lost === 0 ? 0 : 1);
