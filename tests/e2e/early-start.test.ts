import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { capacityCountMismatches, findExecutions } from '@eb/db';
import { databaseUrl, freePort, readRequest, redisUrl, testDatabase, until } from '../support/env.js';
import { startService, stopService, type Service } from '../support/processes.js';

// The utilisation case of issue 16: many short runs, each booked for much longer than it takes, on a
// small platform. Booked back to back they would end hours from now; started early as capacity frees
// up, they all end within a few slot lengths.
const RUNS = 50;
const CORES = 4;
const db = testDatabase(4);
const services: Service[] = [];
let offersetApi = '';
let executionApi = '';
const platform = `early-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const [os, ex, wk] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_AUTH: 'none', EB_QUEUE_PREFIX: `early-${randomUUID().slice(0, 8)}`,
    EB_PLATFORM: 'simulated', EB_PLATFORM_NAME: platform, EB_CAPACITY_CORES: String(CORES), EB_CAPACITY_MEMORY_GIB: '16',
    EB_SLOT: 'PT10M', EB_MAX_OFFERS: '1', EB_BOOKING_HORIZON: 'P1D', EB_PREPARE_ESTIMATE: 'PT5S', EB_RELEASE_ESTIMATE: 'PT5S',
    EB_SIM_PREPARE: '0', EB_SIM_RUN: '1000', EB_SIM_RELEASE: '0', EB_POLL_MIN: '50', EB_POLL_MAX: '500',
  };
  services.push(await startService('offerset-api', os, env), await startService('execution-api', ex, env), await startService('platform-worker', wk, env));
  offersetApi = `http://127.0.0.1:${os}`;
  executionApi = `http://127.0.0.1:${ex}`;
}, 60_000);

afterAll(async () => {
  for (const s of services.reverse()) await stopService(s);
  await db.close();
});

test(`${RUNS} one-second runs booked for 10 minutes each on ${CORES} cores all finish within a few slot lengths, in booked order, never over capacity`, async () => {
  const request = await readRequest('execution-request-docker-minimal.json');
  request.compute = { kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/compute/simple-compute-resource.yaml', cores: { min: 1, max: 1 }, memory: { min: 1, max: 1 } };
  request.schedule = { requested: { duration: 'PT10M' } };
  const booked: { uuid: string; start: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const res = await fetch(`${offersetApi}/offersets`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' }, body: JSON.stringify(request),
    });
    const set = await res.json() as { result: string; offers: { meta: { uuid: string }; schedule: { preparing: { start: string } } }[] };
    expect(set.result).toBe('YES');
    const offer = set.offers[0]!;
    booked.push({ uuid: offer.meta.uuid, start: Date.parse(offer.schedule.preparing.start) });
    const acc = await fetch(`${executionApi}/executions/${offer.meta.uuid}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'uri:enum-value-update', path: 'phase', value: 'ACCEPTED' }),
    });
    expect(acc.status).toBe(200);
  }
  const acceptedAt = Date.now();
  // Booked back to back (as capacity looked when each was asked for, runs ending meanwhile), the last
  // would start well over half an hour from now.
  expect(Math.max(...booked.map((b) => b.start)) - acceptedAt).toBeGreaterThan(30 * 60_000);

  const uuids = booked.map((b) => b.uuid);
  const records = await until(async () => {
    const rs = await findExecutions(db.db, uuids);
    return rs.every((r) => r.execution.phase === 'COMPLETED') ? rs : undefined;
  }, 180_000, 500);
  const at = (uuid: string, phase: string) => records.find((r) => r.execution.uuid === uuid)!.history
    .find((h) => h.component_uuid === null && h.phase === phase)!.at.getTime();
  const finishedAt = Math.max(...uuids.map((u) => at(u, 'COMPLETED')));
  // Within a few slot lengths (the slot is 10 minutes); in fact within a few minutes.
  expect(finishedAt - acceptedAt).toBeLessThan(3 * 60_000);
  // Each one booked for later started long before its booked start, and says why its schedule changed.
  for (const b of booked.filter((x) => x.start > acceptedAt + 60_000)) {
    expect(at(b.uuid, 'PREPARING')).toBeLessThan(b.start - 30_000);
    expect(records.find((r) => r.execution.uuid === b.uuid)!.execution.messages).toContainEqual(expect.objectContaining({ kind: 'urn:schedule-change' }));
  }

  // Never more running at once than the platform has cores: from PREPARING to COMPLETED of each.
  const events = uuids.flatMap((u) => [[at(u, 'PREPARING'), 1], [at(u, 'COMPLETED'), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (running += d));
  expect(peak).toBeLessThanOrEqual(CORES);
  expect(peak).toBe(CORES);

  // Fair: an execution already waiting (for a second: one pass of the scheduler) when another booked a
  // whole slot after it was given its start (moved earlier, or accepted) never got a later start.
  const recordOf = (uuid: string) => records.find((r) => r.execution.uuid === uuid)!;
  const startOf = (uuid: string) => recordOf(uuid).execution.prepare_start.getTime();
  const givenAt = (uuid: string) => {
    const moved = recordOf(uuid).execution.messages.find((m) => m.kind === 'urn:schedule-change');
    return moved?.time ? Date.parse(moved.time) : at(uuid, 'ACCEPTED');
  };
  for (const a of booked) {
    for (const b of booked) {
      if (at(a.uuid, 'ACCEPTED') < givenAt(b.uuid) - 1000 && b.start - a.start >= 10 * 60_000) expect(startOf(a.uuid)).toBeLessThanOrEqual(startOf(b.uuid));
    }
  }
  expect(await capacityCountMismatches(db.db, platform)).toEqual([]);
}, 240_000);
