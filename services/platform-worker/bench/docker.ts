// The Docker path beside `docker run` of the same container, in the same run: accept -> COMPLETED of a
// batch container running `true` on the Docker platform (one worker process), against
// `docker run --rm <image> true`. Median of BENCH_DOCKER_RUNS each, run alternately.
// Run with: pnpm bench:docker
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { connectDatabase, findExecution, migrateToLatest, upsertPlatform } from '@eb/db';
import { StepQueues, acceptOffer, envInt, envString, redisConnection } from '@eb/core';
import { storeSeparateOffers } from '@eb/tests/support/offers.js';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';

const RUNS = envInt('BENCH_DOCKER_RUNS', 5);
const SETTLE_MS = 1000;
const databaseUrl = envString('DATABASE_URL');
const redisUrl = envString('REDIS_URL', 'redis://127.0.0.1:6379');
const database = connectDatabase(databaseUrl, { max: 4, applicationName: 'bench-docker' });
await migrateToLatest(database.db);
const imageId = ensureTestImage();
const platform = `bench-docker-${randomUUID().slice(0, 8)}`;
await upsertPlatform(database.db, { name: platform, cores: 1, memoryGib: 1, storageGib: 10 });
const prefix = `bench-docker-${randomUUID().slice(0, 8)}`;
const worker = spawn(process.execPath, [fileURLToPath(new URL('../src/main.js', import.meta.url))], {
  env: {
    ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, EB_QUEUE_PREFIX: prefix, EB_PLATFORM: 'docker', EB_PLATFORM_NAME: platform,
    EB_CAPACITY_CORES: '1', EB_CAPACITY_MEMORY_GIB: '1', EB_DOCKER_PULL: 'false', PORT: '18480', LOG_LEVEL: 'warn', EB_MIGRATE_ON_START: 'false',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
// The worker goes with the bench, however it ends.
process.on('exit', () => { if (worker.exitCode === null) worker.kill('SIGKILL'); });
const conn = redisConnection(redisUrl);
const queues = new StepQueues(conn, prefix);
const logger = pino({ level: 'silent' });
for (let t = 0; !(await fetch('http://127.0.0.1:18480/readyz').then((r) => r.ok, () => false)); t++) {
  if (t > 300) throw new Error('the worker did not start');
  await new Promise((r) => setTimeout(r, 100));
}

async function viaBroker(): Promise<number> {
  const [set] = await storeSeparateOffers(database.db, platform, [{
    prepareMs: 5000, durationMs: 60_000, releaseMs: 5000,
    executable: { image: { locations: [TEST_IMAGE], digest: imageId }, command: ['true'] },
  }]);
  const uuid = set!.offers[0]!.uuid;
  const started = Date.now();
  await acceptOffer(database.db, queues, uuid, logger);
  for (;;) {
    const r = await findExecution(database.db, uuid);
    const done = r?.history.find((h) => h.component_uuid === null && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(h.phase));
    if (done) {
      if (done.phase !== 'COMPLETED') throw new Error(`the container ended ${done.phase}: ${JSON.stringify(r?.execution.messages)}`);
      return done.at.getTime() - started;
    }
    await new Promise((res) => setTimeout(res, 10));
  }
}

function viaDockerRun(): number {
  const started = Date.now();
  execFileSync('docker', ['run', '--rm', '--label', `eb-bench=${prefix}`, TEST_IMAGE, 'true']);
  return Date.now() - started;
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const broker: number[] = [];
const baseline: number[] = [];
try {
  viaDockerRun(); // warm: the image's layers in the page cache for both
  for (let i = 0; i < RUNS; i++) {
    // Each measured alone: the worker removes an execution's network, and makes its next spare, after
    // COMPLETED; that work must not land in the next measurement, of either kind.
    await settle();
    baseline.push(viaDockerRun());
    await settle();
    broker.push(await viaBroker());
  }
} finally {
  await new Promise((r) => { worker.once('exit', r); worker.kill('SIGTERM'); });
  await queues.for(platform).obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  conn.disconnect();
  await database.close();
}
console.log(`docker accept -> COMPLETED of a \`true\` container: broker ${median(broker)} ms, baseline \`docker run\` ${median(baseline)} ms `
  + `(medians of ${RUNS}), ratio ${(median(broker) / median(baseline)).toFixed(2)} (time: lower is better)`);
