// Offers under load, beside a baseline measured in the same run: offer requests against a platform
// whose calendar holds 10,000 accepted bookings, from 16 concurrent clients, to 1, 2 and 4 offer-set
// processes; and Express + pg doing the same writes per request with no planning (baseline-server.ts).
// Run with: pnpm bench:offers  (BENCH_BOOKINGS, BENCH_REQUESTS, BENCH_CONCURRENCY to change the size)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Kinds } from '@eb/schema';
import { connectDatabase, countExecutionsByPhase, createBaselineTables, migrateToLatest, releaseAllHolds, seedAcceptedBookings, upsertPlatform } from '@eb/db';
import { envInt, envString } from '@eb/core';
import { declareAbilities } from '@eb/tests/support/env.js';
import { closedLoop, describeLoad, summarize } from './load.js';

const BOOKINGS = envInt('BENCH_BOOKINGS', 10_000);
const REQUESTS = envInt('BENCH_REQUESTS', 1000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 16);
const HORIZON = 7 * 86_400_000;
const databaseUrl = envString('DATABASE_URL');

const database = connectDatabase(databaseUrl, { max: 4, applicationName: 'bench-offers' });
await migrateToLatest(database.db);
const platform = { name: `bench-${randomUUID().slice(0, 8)}`, cores: 2048, memoryGib: 8192, storageGib: 100_000 };
await upsertPlatform(database.db, platform);
// No worker runs here: the simulated platform is declared as its worker would (the APIs are ready only then).
await declareAbilities(database.db, platform.name);
await createBaselineTables(database.db);

// Seed: bookings spread over the horizon, 1-4 hours long, 1-8 cores each (about 1/3 of capacity in use).
const seedStart = performance.now();
const now = Date.now();
await seedAcceptedBookings(database.db, platform.name, Array.from({ length: BOOKINGS }, () => {
  const start = now + Math.floor(Math.random() * HORIZON);
  const duration = (1 + Math.floor(Math.random() * 4)) * 3_600_000;
  return { start: new Date(start), end: new Date(start + duration), cores: 1 + Math.floor(Math.random() * 8), memoryGib: 2 };
}), randomUUID);
const seedSeconds = (performance.now() - seedStart) / 1000;

// services/offerset-api/dist/bench -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const env = {
  ...process.env, DATABASE_URL: databaseUrl, EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform.name, EB_AUTH: 'none',
  EB_CAPACITY_CORES: String(platform.cores), EB_CAPACITY_MEMORY_GIB: String(platform.memoryGib), EB_CAPACITY_STORAGE_GIB: String(platform.storageGib),
  EB_OFFER_TTL: 'PT5M', EB_MAX_OFFERS: '4', EB_SLOT: 'PT15M', EB_BOOKING_HORIZON: 'P7D', EB_PREPARE_ESTIMATE: 'PT30S', EB_RELEASE_ESTIMATE: 'PT10S',
  // The workload measured in issue 16: every request leaves its offer set held (no cap per owner).
  EB_MAX_OPEN_OFFERSETS_PER_OWNER: '1000000',
  EB_MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn', EB_QUEUE_PREFIX: `bench-${randomUUID().slice(0, 8)}`,
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// Every process the bench starts goes with it, however it ends (a server that never became ready included).
const spawned: ChildProcess[] = [];
process.on('exit', () => { for (const c of spawned) if (c.exitCode === null) c.kill('SIGKILL'); });

async function start(script: string, count: number): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    children.push(spawn(process.execPath, [`${root}${script}`], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] }));
    spawned.push(children.at(-1)!);
    urls.push(`http://127.0.0.1:${port}`);
  }
  for (const url of urls) {
    for (let t = 0; !(await fetch(`${url}/readyz`).then((r) => r.ok, () => false)); t++) {
      if (t > 200) throw new Error(`${script} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); })));
  };
  return { urls: urls.map((u) => `${u}/offersets`), stop };
}

const body = JSON.stringify({
  executable: { kind: Kinds.dockerContainer, image: { locations: ['example/bench:1'], digest: `sha256:${'b'.repeat(64)}` } },
  compute: { kind: Kinds.simpleCompute, cores: { min: 1, max: 4 }, memory: { min: 1, max: 4 } },
  schedule: { requested: { duration: 'PT1H' } },
});

const broker = 'services/offerset-api/dist/src/main.js';
const baselineServer = 'services/offerset-api/dist/bench/baseline-server.js';
const ROUNDS = envInt('BENCH_ROUNDS', 3);

// Every configuration runs in each of a few rounds, in turn, so a machine shared with other work
// slows them alike; each run's holds are given back before the next, so each plans against the same calendar.
const configs = [
  { name: 'baseline', script: baselineServer, processes: 1 },
  { name: 'broker', script: broker, processes: 1 },
  { name: 'broker', script: broker, processes: 2 },
  { name: 'broker', script: broker, processes: 4 },
];
const servers = [];
for (const c of configs) servers.push(await start(c.script, c.processes));
const totals = configs.map(() => ({ seconds: 0, count: 0, failures: 0, offers: 0, latencies: [] as number[] }));
// What a run offered (each answer YES makes offers; a NO makes none, and is cheap): counted before its holds go.
const offered = async () => (await countExecutionsByPhase(database.db, platform.name)).find((p) => p.phase === 'OFFERED')?.count ?? 0;
try {
  for (const [i, s] of servers.entries()) await closedLoop(s.urls, body, CONCURRENCY, Math.min(100, REQUESTS), 303, totals[i]!.latencies.slice());
  await releaseAllHolds(database.db, platform.name);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, s] of servers.entries()) {
      const t = totals[i]!;
      const r = await closedLoop(s.urls, body, CONCURRENCY, Math.ceil(REQUESTS / ROUNDS), 303, t.latencies);
      t.seconds += r.seconds;
      t.count += r.count;
      t.failures += r.failures;
      t.offers += await offered();
      await releaseAllHolds(database.db, platform.name);
    }
  }
  const conflicts = await Promise.all(servers.slice(1).flatMap((s) => s.urls).map((u) => fetch(u.replace('/offersets', '/metrics')).then((r) => r.text(), () => '')));
  const n = conflicts.reduce((sum, text) => sum + Number(/^eb_offer_plan_conflicts_total (\d+)/m.exec(text)?.[1] ?? 0), 0);
  console.log(`offers benchmark: ${BOOKINGS} accepted bookings on one platform (seeded in ${seedSeconds.toFixed(1)} s), `
    + `${ROUNDS} rounds of ${Math.ceil(REQUESTS / ROUNDS)} requests from ${CONCURRENCY} clients per configuration; `
    + `${n} offer sets planned again after losing a race for capacity`);
} finally {
  for (const s of servers) await s.stop();
}
const results = totals.map((t) => summarize(t.count, t.seconds, t.failures, t.latencies));
const baseline = results[0]!;
for (const [i, c] of configs.entries()) {
  if (c.name === 'baseline') continue;
  const r = results[i]!;
  const label = c.processes === 1 ? '' : ` ${c.processes} processes`;
  const perRequest = totals[i]!.offers / totals[i]!.count;
  console.log(`offers c=${CONCURRENCY}${label}: broker ${describeLoad(r)}, baseline ${describeLoad(baseline)}, ratio ${(r.perSecond / baseline.perSecond).toFixed(2)} `
    + `(${perRequest.toFixed(1)} offers per request)`);
  // Answers of NO are cheap: a run that offered nothing measured the wrong thing.
  if (perRequest < 1) process.exitCode = 1;
}
await database.close();
