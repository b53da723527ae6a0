// Offer planning under load: N offer requests against a platform whose calendar already holds
// 10,000 accepted bookings. Prints requests/s, latency percentiles and memory.
// Run with: pnpm bench:offers  (or: bash scripts/bench.sh offers)
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Kinds } from '@eb/schema';
import { acceptAllOffered, connectDatabase, migrateToLatest, planAndInsertOfferSet, upsertPlatform, type NewOffer } from '@eb/db';
import { StepQueues, envInt, envString, redisConnection } from '@eb/core';
import { createApp } from '../src/app.js';
import type { OffersetApiConfig } from '../src/config.js';

const BOOKINGS = envInt('BENCH_BOOKINGS', 10_000);
const REQUESTS = envInt('BENCH_REQUESTS', 1000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 16);
const HORIZON = 7 * 86_400_000;

const database = connectDatabase(envString('DATABASE_URL'), { max: 20, applicationName: 'bench-offers' });
await migrateToLatest(database.db);
const platform = { name: `bench-${randomUUID().slice(0, 8)}`, cores: 2048, memoryGib: 8192, storageGib: 100_000 };
await upsertPlatform(database.db, platform);

// Seed: bookings spread over the horizon, 1-4 hours long, 1-8 cores each (about 1/3 of capacity in use).
const seedStart = performance.now();
for (let done = 0; done < BOOKINGS; done += 500) {
  await planAndInsertOfferSet(database.db, platform.name, [HORIZON], (ctx) => {
    const now = ctx!.now.getTime();
    const offers: NewOffer[] = Array.from({ length: Math.min(500, BOOKINGS - done) }, () => {
      const start = now + Math.floor(Math.random() * HORIZON);
      const duration = (1 + Math.floor(Math.random() * 4)) * 3_600_000;
      return {
        uuid: randomUUID(), name: null, platform: platform.name, expires: new Date(now + 3_600_000),
        prepareStart: new Date(start), prepareMs: 0, availableStart: new Date(start), availableMs: duration,
        releaseStart: new Date(start + duration), releaseMs: 0, cores: 1 + Math.floor(Math.random() * 8), memoryGib: 2, storageGib: 0,
        interactive: false, components: [],
      };
    });
    return { uuid: randomUUID(), owner: 'bench', name: null, expires: new Date(now + 3_600_000), result: 'YES', request: {}, messages: [], offers };
  });
}
await acceptAllOffered(database.db, platform.name);
const seedSeconds = (performance.now() - seedStart) / 1000;

const redis = redisConnection(envString('REDIS_URL', 'redis://127.0.0.1:6379'));
const queues = new StepQueues(redis, `bench-${randomUUID().slice(0, 8)}`);
const config = {
  platform: { ...platform, type: 'simulated', prepareMs: 30_000, releaseMs: 10_000 },
  offers: { platform: platform.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers: 4, horizonMs: HORIZON, slotMs: 900_000, maxCandidates: 5000 },
  defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 },
} as OffersetApiConfig;
const app = createApp({ db: database.db, queues, config, logger: pino({ level: 'silent' }), auth: { staticTokens: new Map(), adminRole: 'eb-admin', disabled: true } });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/offersets`;

const body = JSON.stringify({
  executable: { kind: Kinds.dockerContainer, image: { locations: ['example/bench:1'], digest: `sha256:${'b'.repeat(64)}` } },
  compute: { kind: Kinds.simpleCompute, cores: { min: 1, max: 4 }, memory: { min: 1, max: 4 } },
  schedule: { requested: { duration: 'PT1H' } },
});
async function run(concurrency: number, count: number): Promise<void> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 303) failures += 1;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  console.log(`  ${count} requests, concurrency ${concurrency}: ${(count / seconds).toFixed(1)} offer requests/s (${failures} not 303); `
    + `latency ms p50 ${pct(50)} p95 ${pct(95)} p99 ${pct(99)} max ${latencies.at(-1)!.toFixed(1)}`);
}

console.log(`offer benchmark: ${BOOKINGS} accepted bookings on one platform (seeded in ${seedSeconds.toFixed(1)} s); each request leaves an offer set held`);
await run(1, Math.max(1, Math.floor(REQUESTS / 5)));
await run(CONCURRENCY, REQUESTS);
const mem = process.memoryUsage();
console.log(`  memory MiB: rss ${(mem.rss / 2 ** 20).toFixed(0)}, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)}`);

server.close();
await queues.close();
redis.disconnect();
await database.close();
