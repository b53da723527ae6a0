// Lifecycle load: schedules N executions on the simulated platform, run by 2 worker processes, and
// prints how many ended in each phase, duplicated or lost transitions, and accept -> AVAILABLE times.
// Run with: pnpm bench:lifecycle   (BENCH_EXECUTIONS, BENCH_WORKERS to change the size)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { connectDatabase, findExecutions, migrateToLatest, upsertPlatform } from '@eb/db';
import { StepQueues, acceptOffer, envInt, envString, redisConnection } from '@eb/core';
import { storeOfferSet } from '@eb/tests/support/offers.js';

const N = envInt('BENCH_EXECUTIONS', 1000);
const WORKERS = envInt('BENCH_WORKERS', 2);
const SIM_PREPARE_MS = 200;
const EXPECTED = ['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED'];

const databaseUrl = envString('DATABASE_URL');
const redisUrl = envString('REDIS_URL', 'redis://127.0.0.1:6379');
const database = connectDatabase(databaseUrl, { max: 20, applicationName: 'bench-lifecycle' });
await migrateToLatest(database.db);
const platform = `load-${randomUUID().slice(0, 8)}`;
await upsertPlatform(database.db, { name: platform, cores: 100_000, memoryGib: 100_000, storageGib: 100_000 });
const prefix = `load-${randomUUID().slice(0, 8)}`;

const workerMain = fileURLToPath(new URL('../src/main.js', import.meta.url));
const workers = Array.from({ length: WORKERS }, (_, i) => spawn(process.execPath, [workerMain], {
  env: {
    ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, EB_QUEUE_PREFIX: prefix, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform,
    EB_SIM_PREPARE: String(SIM_PREPARE_MS), EB_SIM_RUN: '200', EB_SIM_RELEASE: '50', EB_POLL_MIN: '50', EB_POLL_MAX: '1000',
    EB_WORKER_CONCURRENCY: '50', EB_RECONCILE_EVERY: process.env.BENCH_RECONCILE ?? 'PT5S', PORT: String(18_400 + i), LOG_LEVEL: 'warn', EB_MIGRATE_ON_START: 'false',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
}));

const conn = redisConnection(redisUrl);
const queues = new StepQueues(conn, prefix);
const logger = pino({ level: 'silent' });
const uuids: string[] = [];
for (let i = 0; i < N; i += 100) {
  const set = await storeOfferSet(database.db, platform, Array.from({ length: Math.min(100, N - i) }, () => ({ prepareMs: 1000, durationMs: 600_000 })));
  uuids.push(...set.offers.map((o) => o.uuid));
}
// Accept from 20 concurrent "clients"; the offers of a set are alternatives, so each is its own set here.
const started = Date.now();
let next = 0;
await Promise.all(Array.from({ length: 20 }, async () => {
  while (next < uuids.length) {
    const uuid = uuids[next++]!;
    // Each stored set holds 100 offers; accepting one would reject its siblings, so move each to its own set first.
    await database.db.updateTable('executions').set({ offerset_uuid: await newSetFor(uuid) }).where('uuid', '=', uuid).execute();
    await acceptOffer(database.db, queues, uuid, logger);
  }
}));
async function newSetFor(uuid: string): Promise<string> {
  const id = randomUUID();
  await database.db.insertInto('offersets').values({ uuid: id, owner: 'load', name: uuid, expires: new Date(Date.now() + 3_600_000), result: 'YES', request: '{}', messages: '[]' }).execute();
  return id;
}
const acceptedIn = (Date.now() - started) / 1000;

const terminal = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const deadline = Date.now() + 10 * 60_000;
let records = await findExecutions(database.db, uuids);
while (Date.now() < deadline && records.some((r) => !terminal.has(r.execution.phase))) {
  await new Promise((r) => setTimeout(r, 1000));
  records = await findExecutions(database.db, uuids);
}
const elapsed = (Date.now() - started) / 1000;

const byPhase = new Map<string, number>();
let duplicated = 0;
let lost = 0;
const acceptToAvailable: number[] = [];
for (const r of records) {
  byPhase.set(r.execution.phase, (byPhase.get(r.execution.phase) ?? 0) + 1);
  const phases = r.history.filter((h) => h.component_uuid === null).map((h) => h.phase);
  duplicated += phases.length - new Set(phases).size;
  if (r.execution.phase === 'COMPLETED' && phases.join() !== EXPECTED.join()) lost += 1;
  if (!terminal.has(r.execution.phase)) lost += 1;
  const at = (p: string) => r.history.find((h) => h.component_uuid === null && h.phase === p)?.at.getTime();
  const a = at('ACCEPTED');
  const b = at('AVAILABLE');
  if (a !== undefined && b !== undefined) acceptToAvailable.push(b - a);
}
acceptToAvailable.sort((x, y) => x - y);
const pct = (p: number) => acceptToAvailable[Math.min(acceptToAvailable.length - 1, Math.floor((p / 100) * acceptToAvailable.length))] ?? NaN;
console.log(`lifecycle load: ${N} executions, ${WORKERS} worker processes, simulated platform (prepare ${SIM_PREPARE_MS} ms per step)`);
console.log(`  accepted in ${acceptedIn.toFixed(1)} s; all ended after ${elapsed.toFixed(1)} s`);
console.log(`  final phases: ${[...byPhase].map(([p, n]) => `${p} ${n}`).join(', ')}`);
console.log(`  transitions duplicated: ${duplicated}; lost (missing or stuck): ${lost}`);
console.log(`  accept -> AVAILABLE ms: p50 ${pct(50)} p99 ${pct(99)} (includes ${SIM_PREPARE_MS} ms of simulated preparation); `
  + `overhead p50 ${pct(50) - SIM_PREPARE_MS} p99 ${pct(99) - SIM_PREPARE_MS}`);

for (const w of workers) w.kill('SIGTERM');
await queues.for(platform).obliterate({ force: true }).catch(() => undefined);
await queues.close();
conn.disconnect();
await database.close();
process.exit(duplicated === 0 && lost === 0 ? 0 : 1);
