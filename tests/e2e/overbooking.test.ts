import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { capacityCountMismatches, peakAcceptedUsage } from '@eb/db';
import { databaseUrl, declareAbilities, freePort, readRequest, redisUrl, testDatabase } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';
import { writeStaticTokens } from '../support/auth.js';

const TOKEN = `t-${randomUUID()}`;
const AUTH = { Authorization: `Bearer ${TOKEN}` };

// Several API replicas race for a small platform, with no lock over its calendar; PostgreSQL alone
// keeps the promise (capacity counted per bucket under a CHECK constraint).
const db = testDatabase(2);
const platform = `race-${randomUUID().slice(0, 8)}`;
const CAPACITY = { cores: 8, memoryGib: 12 };
const offerApis: Service[] = [];
const executionApis: Service[] = [];

beforeAll(async () => {
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_STATIC_TOKENS_FILE: writeStaticTokens({ [TOKEN]: { subject: 'e2e-user' } }), EB_QUEUE_PREFIX: `race-${randomUUID().slice(0, 8)}`,
    // One user makes all 200 requests here: the race is what is tried, not the cap on open offer sets.
    EB_MAX_OPEN_OFFERSETS_PER_OWNER: '1000',
    EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform,
    EB_CAPACITY_CORES: String(CAPACITY.cores), EB_CAPACITY_MEMORY_GIB: String(CAPACITY.memoryGib),
    EB_BOOKING_HORIZON: 'PT30M', EB_SLOT: 'PT5M', EB_MAX_OFFERS: '2', EB_PREPARE_ESTIMATE: 'PT10S', EB_RELEASE_ESTIMATE: 'PT10S',
    EB_DB_POOL: '10',
  };
  const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const started = await Promise.all([
    startService('offerset-api', ports[0]!, env), startService('offerset-api', ports[1]!, env), startService('offerset-api', ports[2]!, env),
    startService('execution-api', ports[3]!, env), startService('execution-api', ports[4]!, env),
  ]);
  // No worker runs here: declare what the simulated platform's worker would.
  await declareAbilities(db.db, platform);
  offerApis.push(...started.slice(0, 3));
  executionApis.push(...started.slice(3));
}, 60_000);

afterAll(async () => {
  await Promise.all([...offerApis, ...executionApis].map((s) => stopService(s)));
  await db.close();
});

test('200 concurrent requests and acceptances across 3 offer-set and 2 execution replicas never overbook', async () => {
  const template = await readRequest('execution-request-docker-minimal.json');
  const outcomes = { yes: 0, no: 0, accepted: 0, acceptRefused: 0 };
  const one = async (i: number) => {
    const req = structuredClone(template);
    req.compute = { kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/compute/simple-compute-resource.yaml',
      cores: { min: 1 + (i % 2), max: 3 }, memory: { min: 1, max: 2 } };
    req.schedule = { requested: { duration: 'PT10M' } };
    const api = offerApis[i % offerApis.length]!;
    const res = await fetch(`${api.url}/offersets`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation', ...AUTH }, body: JSON.stringify(req),
    });
    expect(res.status).toBe(200);
    const set = await res.json() as { result: string; offers: { meta: { uuid: string } }[] };
    if (set.result !== 'YES') { outcomes.no += 1; return; }
    outcomes.yes += 1;
    const exe = executionApis[i % executionApis.length]!;
    const acc = await fetch(`${exe.url}/executions/${set.offers[0]!.meta.uuid}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH },
      body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }),
    });
    if (acc.status === 200) outcomes.accepted += 1;
    else outcomes.acceptRefused += 1;
  };
  // 200 requests, 40 in flight at a time.
  const queue = Array.from({ length: 200 }, (_, i) => i);
  await Promise.all(Array.from({ length: 40 }, async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) await one(i);
  }));

  expect(outcomes.yes + outcomes.no).toBe(200);
  // The platform was really the limit: some were refused, some booked.
  expect(outcomes.no).toBeGreaterThan(0);
  expect(outcomes.accepted).toBeGreaterThan(0);
  // Offers are held for their set, so an offer made is an offer that can be accepted.
  expect(outcomes.acceptRefused).toBe(0);

  const peak = (await peakAcceptedUsage(db.db)).find((p) => p.platform === platform)!;
  expect(peak.cores).toBeLessThanOrEqual(CAPACITY.cores);
  expect(peak.memoryGib).toBeLessThanOrEqual(CAPACITY.memoryGib);
  // And the capacity was used, not left idle by over-caution.
  expect(peak.cores).toBe(CAPACITY.cores);
  // The database's own count (what it enforces) agrees with the bookings.
  expect(await capacityCountMismatches(db.db, platform)).toEqual([]);
  console.log(`overbooking race: ${JSON.stringify(outcomes)}; peak ${peak.cores}/${CAPACITY.cores} cores, ${peak.memoryGib}/${CAPACITY.memoryGib} GiB`);
}, 120_000);
