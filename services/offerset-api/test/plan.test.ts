import { describe, expect, test } from '@jest/globals';
import { BUCKET_MS, type PlatformCapacity } from '@eb/db';
import { planOffers, type PlanSettings } from '../src/offers/plan.js';
import { FreeCalendar } from '@eb/core';
import { buildRequestTree, type RequestTree } from '../src/offers/request-tree.js';

const H = 3_600_000;
const settings: PlanSettings = { prepareMs: 0, releaseMs: 0, maxOffers: 4, horizonMs: 24 * H, slotMs: H, maxCandidates: 100 };
const capacity: PlatformCapacity = { name: 'p', cores: 8, memoryGib: 16, storageGib: 100 };
const defaults = { durationMs: H, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 };
const tree = (req: Record<string, unknown>): RequestTree => buildRequestTree(req as never, defaults);
const compute = (cores: [number, number], memory: [number, number]) => ({
  compute: { kind: 'x', cores: { min: cores[0], max: cores[1] }, memory: { min: memory[0], max: memory[1] } },
});
interface Used { start: number; end: number; cores: number; memoryGib?: number }
const booking = (start: number, end: number, cores: number, memoryGib = 0): Used => ({ start, end, cores, memoryGib });

/** The calendar the database would give for these bookings: use summed per one-minute bucket. */
function calendarOf(used: Used[], now: number, horizonMs = settings.horizonMs + 2 * H): FreeCalendar {
  const perBucket = new Map<number, { cores: number; memoryGib: number }>();
  for (const u of used) {
    for (let t = Math.floor(u.start / BUCKET_MS) * BUCKET_MS; t < u.end; t += BUCKET_MS) {
      const b = perBucket.get(t) ?? { cores: 0, memoryGib: 0 };
      b.cores += u.cores;
      b.memoryGib += u.memoryGib ?? 0;
      perBucket.set(t, b);
    }
  }
  const starts = [...perBucket.keys()].sort((a, b) => a - b);
  return new FreeCalendar({
    now: new Date(now), capacity, bucketMs: BUCKET_MS, starts, lapsedHolds: false, uncountedReleases: false,
    free: {
      cores: starts.map((t) => capacity.cores - perBucket.get(t)!.cores),
      memoryGib: starts.map((t) => capacity.memoryGib - perBucket.get(t)!.memoryGib),
      storageGib: starts.map(() => capacity.storageGib),
    },
  }, horizonMs);
}
const plan = (t: RequestTree, used: Used[], now: number, s: PlanSettings = settings) => planOffers(t, calendarOf(used, now, s.horizonMs + 2 * H), now, s);

describe('planOffers', () => {
  test('offers the maximum that fits now, a minimum alternative, and later starts, each meeting the minimum', () => {
    const r = plan(tree(compute([2, 6], [2, 8])), [], 0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.offers).toHaveLength(4);
    expect(r.offers[0]).toMatchObject({ prepareStart: 0, cores: 6, memoryGib: 8 });
    expect(r.offers[1]).toMatchObject({ prepareStart: 0, cores: 2, memoryGib: 2 });
    expect(r.offers[2]!.prepareStart).toBe(H);
    expect(r.offers[3]!.prepareStart).toBe(2 * H);
    for (const o of r.offers) {
      expect(o.cores).toBeGreaterThanOrEqual(2);
      expect(o.releaseStart - o.availableStart).toBe(H);
    }
  });

  test('never offers more than is free for the whole interval', () => {
    // 5 cores are taken from 30 minutes in: a one-hour slot starting now can use only 3.
    const r = plan(tree(compute([2, 8], [1, 1])), [booking(H / 2, 3 * H, 5)], 0);
    expect(r.ok && r.offers[0]).toMatchObject({ prepareStart: 0, cores: 3 });
  });

  test('starts later when nothing fits now, at the time capacity frees up', () => {
    const busy = [booking(0, 90 * 60_000, 7)];
    const r = plan(tree(compute([4, 4], [1, 1])), busy, 0, { ...settings, slotMs: 4 * H });
    expect(r.ok && r.offers[0]!.prepareStart).toBe(90 * 60_000);
  });

  test('a booking ending at t leaves room for one starting at t', () => {
    expect(calendarOf([booking(0, H, 8), booking(H, 2 * H, 8)], 0).free(H, 2 * H).cores).toBe(0);
    expect(calendarOf([booking(0, H, 8)], 0).free(H, 2 * H).cores).toBe(8);
    expect(calendarOf([booking(0, H, 8)], 0).free(H - 1, 2 * H).cores).toBe(0);
  });

  test('nothing is free beyond what was read of the calendar', () => {
    const c = calendarOf([], 0, 2 * H);
    expect(c.free(0, 2 * H).cores).toBe(8);
    expect(c.free(H, 3 * H).cores).toBe(0);
  });

  test('says which resource is short when no slot fits within the horizon', () => {
    const r = plan(tree(compute([1, 1], [32, 32])), [], 0);
    expect(r).toEqual({ ok: false, short: ['memory'], reason: 'capacity' });
  });

  test('honours a requested start interval and duration', () => {
    const start = Date.UTC(2030, 0, 1, 12);
    const t = tree({ schedule: { requested: { start: '2030-01-01T12:00:00Z/PT2H', duration: 'PT10M' } } });
    const r = plan(t, [], start - H);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.offers.map((o) => o.prepareStart)).toEqual([start, start + H, start + 2 * H]);
    expect(r.offers.every((o) => o.releaseStart - o.availableStart === 10 * 60_000)).toBe(true);
  });

  test('a start interval wholly in the past has no slot', () => {
    const t = tree({ schedule: { requested: { start: '2020-01-01T12:00:00Z/PT1H' } } });
    expect(plan(t, [], Date.UTC(2026, 0, 1))).toMatchObject({ ok: false, reason: 'window' });
  });
});

describe('booking horizon', () => {
  test('nothing starts beyond the horizon, even when the request asks for it', () => {
    const t = tree({ schedule: { requested: { start: '2030-01-01T12:00:00Z/PT1H' } } });
    expect(plan(t, [], Date.UTC(2029, 0, 1))).toMatchObject({ ok: false, reason: 'window' });
  });
});
