import { afterAll, describe, expect, test } from '@jest/globals';
import {
  acceptExecution, capacityCountMismatches, countReleases, expireOffers, freeCapacity, isCapacityConflict, releaseExecutionBookings,
  transitionExecution, upsertPlatform,
} from '@eb/db';
import { testDatabase, testPlatform } from '../support/env.js';
import { storeOfferSet } from '../support/offers.js';

// Capacity is counted by PostgreSQL itself (buckets kept by triggers on bookings, with a CHECK):
// these go straight at the database, as any code path would.
const db = testDatabase(20);
afterAll(() => db.close());

const MIN = 60_000;
const H = 60 * MIN;
const refused = (p: Promise<unknown>) => p.then(() => 'stored', (err: unknown) => (isCapacityConflict(err) ? 'refused' : Promise.reject(err)));
const freeCores = async (platform: string, fromMs: number, toMs: number) =>
  (await freeCapacity(db.db, platform, new Date(fromMs), new Date(toMs)))!.cores;

describe('capacity counted by the database', () => {
  test('a hold or a moved booking that would go over capacity is refused, whoever writes it', async () => {
    const p = (await testPlatform(db.db, { cores: 8 })).name;
    await storeOfferSet(db.db, p, [{ cores: 6, durationMs: H }]);
    expect(await refused(storeOfferSet(db.db, p, [{ cores: 3, durationMs: H }]))).toBe('refused');
    const later = await storeOfferSet(db.db, p, [{ cores: 3, startInMs: 2 * H, durationMs: H }]);
    // Moving the later booking onto the busy hour (as an "extend" or "start earlier" would) is refused too.
    const moved = db.pool.query(`update bookings set during = tstzrange(now(), now() + interval '3 hours') where execution_uuid = $1`, [later.offers[0]!.uuid]);
    expect(await refused(moved)).toBe('refused');
    expect(await refused(storeOfferSet(db.db, p, [{ cores: 2, durationMs: H }]))).toBe('stored');
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
  });

  test('the offers of one set count at their largest; accepting one gives the others back; the end gives back all', async () => {
    const p = (await testPlatform(db.db, { cores: 8 })).name;
    const now = Date.now();
    const set = await storeOfferSet(db.db, p, [{ cores: 6, durationMs: H }, { cores: 2, durationMs: H }]);
    expect(await freeCores(p, now + MIN, now + H)).toBe(2);
    expect((await acceptExecution(db.db, set.offers[1]!.uuid)).outcome).toBe('accepted');
    expect(await freeCores(p, now + MIN, now + H)).toBe(6);
    await releaseExecutionBookings(db.db, set.offers[1]!.uuid);
    // An ended execution's release is counted off in a batch: until then it still counts, and the audit agrees.
    expect(await freeCores(p, now + MIN, now + H)).toBe(6);
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
    expect(await countReleases(db.db, p)).toBe(1);
    expect(await freeCores(p, now + MIN, now + H)).toBe(8);
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
    expect(await countReleases(db.db, p)).toBe(0);
  });

  test('releases counted by several counters at once are each counted once', async () => {
    const p = (await testPlatform(db.db, { cores: 400, memoryGib: 400 })).name;
    const sets = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      storeOfferSet(db.db, p, [{ cores: 2, durationMs: H }, { cores: 1, startInMs: (i % 4) * MIN, durationMs: 2 * H }])));
    // Alternately the first and the second offer of each set.
    const chosen = sets.map((s, k) => s.offers[k % 2]!.uuid);
    await Promise.all(chosen.map((uuid) => acceptExecution(db.db, uuid)));
    await Promise.all(chosen.map((uuid) => releaseExecutionBookings(db.db, uuid)));
    const counted = await Promise.all(Array.from({ length: 6 }, () => countReleases(db.db, p, 7)));
    let more = 0;
    while ((more = await countReleases(db.db, p, 7)) > 0) counted.push(more);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
    const { rows } = await db.pool.query<{ used: number }>('select coalesce(sum(cores_used), 0)::int as used from capacity_buckets where platform = $1', [p]);
    expect(rows[0]!.used).toBe(0);
  });

  test('concurrent accepts, cancels and expiries of the offers of the same sets keep the count exact', async () => {
    const p = (await testPlatform(db.db, { cores: 200, memoryGib: 256 })).name;
    const sets = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      storeOfferSet(db.db, p, [{ cores: 4, durationMs: H }, { cores: 2, durationMs: H }, { cores: 1, startInMs: (i % 3) * MIN, durationMs: 2 * H }], 1500)));
    // For each set at once: accept one offer, cancel another, and let the expirer run over all of them;
    // and for more sets, cancel every offer at once (different rows of one group, changed together).
    const others = await Promise.all(Array.from({ length: 20 }, () =>
      storeOfferSet(db.db, p, [{ cores: 3, durationMs: H }, { cores: 2, durationMs: 2 * H }, { cores: 1, durationMs: 3 * H }])));
    await Promise.all([
      ...others.flatMap((s) => s.offers.map((o) => transitionExecution(db.db, o.uuid, 'OFFERED', 'CANCELLED', 'cancelled by the client'))),
      ...sets.flatMap((s) => [
        acceptExecution(db.db, s.offers[2]!.uuid),
        transitionExecution(db.db, s.offers[0]!.uuid, 'OFFERED', 'CANCELLED', 'cancelled by the client'),
      ]),
      new Promise((r) => setTimeout(r, 1600)).then(() => expireOffers(db.db, 1000, p)),
    ]);
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
    await Promise.all(sets.map((s) => releaseExecutionBookings(db.db, s.offers[2]!.uuid)));
    await Promise.all([expireOffers(db.db, 1000, p), countReleases(db.db, p), countReleases(db.db, p)]);
    await countReleases(db.db, p);
    expect(await capacityCountMismatches(db.db, p)).toEqual([]);
    const { rows } = await db.pool.query<{ used: number }>('select coalesce(sum(cores_used), 0)::int as used from capacity_buckets where platform = $1', [p]);
    expect(rows[0]!.used).toBe(0);
  });

  test('a lowered capacity keeps what is booked and takes nothing more there until use comes down', async () => {
    const p = (await testPlatform(db.db, { cores: 8 })).name;
    const now = Date.now();
    const big = await storeOfferSet(db.db, p, [{ cores: 6, durationMs: H }]);
    expect((await acceptExecution(db.db, big.offers[0]!.uuid)).outcome).toBe('accepted');
    await upsertPlatform(db.db, { name: p, cores: 4, memoryGib: 64, storageGib: 1000 });
    expect(await freeCores(p, now + MIN, now + H)).toBe(0);
    expect(await refused(storeOfferSet(db.db, p, [{ cores: 1, durationMs: H }]))).toBe('refused');
    await releaseExecutionBookings(db.db, big.offers[0]!.uuid);
    await countReleases(db.db, p);
    expect(await freeCores(p, now + MIN, now + H)).toBe(4);
    expect(await refused(storeOfferSet(db.db, p, [{ cores: 5, durationMs: H }]))).toBe('refused');
    expect(await refused(storeOfferSet(db.db, p, [{ cores: 4, durationMs: H }]))).toBe('stored');
  });
});
