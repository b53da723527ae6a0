import { describe, expect, test } from '@jest/globals';
import type { LiveBooking, PlatformCapacity } from '@eb/db';
import { planOffers, freeOver, type PlanSettings } from '../src/offers/plan.js';
import { buildRequestTree, type RequestTree } from '../src/offers/request-tree.js';

const H = 3_600_000;
const settings: PlanSettings = { prepareMs: 0, releaseMs: 0, maxOffers: 4, horizonMs: 24 * H, slotMs: H, maxCandidates: 100 };
const capacity: PlatformCapacity = { name: 'p', cores: 8, memoryGib: 16, storageGib: 100 };
const defaults = { durationMs: H, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 };
const tree = (req: Record<string, unknown>): RequestTree => buildRequestTree(req as never, defaults);
const compute = (cores: [number, number], memory: [number, number]) => ({
  compute: { kind: 'x', cores: { min: cores[0], max: cores[1] }, memory: { min: memory[0], max: memory[1] } },
});
const booking = (group: string, start: number, end: number, cores: number, memoryGib = 0): LiveBooking =>
  ({ group, start, end, cores, memoryGib, storageGib: 0 });

describe('planOffers', () => {
  test('offers the maximum that fits now, a minimum alternative, and later starts, each meeting the minimum', () => {
    const r = planOffers(tree(compute([2, 6], [2, 8])), capacity, [], 0, settings);
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
    const r = planOffers(tree(compute([2, 8], [1, 1])), capacity, [booking('a', H / 2, 3 * H, 5)], 0, settings);
    expect(r.ok && r.offers[0]).toMatchObject({ prepareStart: 0, cores: 3 });
  });

  test('starts later when nothing fits now, at the time capacity frees up', () => {
    const busy = [booking('a', 0, 90 * 60_000, 7)];
    const r = planOffers(tree(compute([4, 4], [1, 1])), capacity, busy, 0, { ...settings, slotMs: 4 * H });
    expect(r.ok && r.offers[0]!.prepareStart).toBe(90 * 60_000);
  });

  test('counts the holds of one offer set at their largest, not their sum', () => {
    const holds = [booking('set', 0, H, 6), booking('set', 0, H, 3)];
    expect(freeOver(capacity, holds, 0, H).cores).toBe(2);
    const separate = [booking('a', 0, H, 6), booking('b', 0, H, 1)];
    expect(freeOver(capacity, separate, 0, H).cores).toBe(1);
  });

  test('a booking ending at t leaves room for one starting at t', () => {
    expect(freeOver(capacity, [booking('a', 0, H, 8), booking('b', H, 2 * H, 8)], H, 2 * H).cores).toBe(0);
    expect(freeOver(capacity, [booking('a', 0, H, 8)], H, 2 * H).cores).toBe(8);
  });

  test('says which resource is short when no slot fits within the horizon', () => {
    const r = planOffers(tree(compute([1, 1], [32, 32])), capacity, [], 0, settings);
    expect(r).toEqual({ ok: false, short: ['memory'], reason: 'capacity' });
  });

  test('honours a requested start interval and duration', () => {
    const start = Date.UTC(2030, 0, 1, 12);
    const t = tree({ schedule: { requested: { start: '2030-01-01T12:00:00Z/PT2H', duration: 'PT10M' } } });
    const r = planOffers(t, capacity, [], start - H, settings);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.offers.map((o) => o.prepareStart)).toEqual([start, start + H, start + 2 * H]);
    expect(r.offers.every((o) => o.releaseStart - o.availableStart === 10 * 60_000)).toBe(true);
  });

  test('a start interval wholly in the past has no slot', () => {
    const t = tree({ schedule: { requested: { start: '2020-01-01T12:00:00Z/PT1H' } } });
    expect(planOffers(t, capacity, [], Date.UTC(2026, 0, 1), settings)).toMatchObject({ ok: false, reason: 'window' });
  });
});

describe('booking horizon', () => {
  test('nothing starts beyond the horizon, even when the request asks for it', () => {
    const t = tree({ schedule: { requested: { start: '2030-01-01T12:00:00Z/PT1H' } } });
    expect(planOffers(t, capacity, [], Date.UTC(2029, 0, 1), settings)).toMatchObject({ ok: false, reason: 'window' });
  });
});
