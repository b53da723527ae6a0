import type { RequestTree } from './request-tree.js';
import type { FreeCalendar } from '@eb/core';

export interface PlanSettings {
  prepareMs: number;
  releaseMs: number;
  maxOffers: number;
  horizonMs: number;
  /** Spacing between alternative start times. */
  slotMs: number;
  /** At most this many start times are examined per request, to bound planning time. */
  maxCandidates: number;
}

export interface PlannedOffer {
  prepareStart: number;
  availableStart: number;
  releaseStart: number;
  end: number;
  cores: number;
  memoryGib: number;
  storageGib: number;
}

export type PlanResult =
  | { ok: true; offers: PlannedOffer[] }
  | { ok: false; short: ('cores' | 'memory' | 'storage')[]; reason: 'capacity' | 'window' };

function candidateStarts(tree: RequestTree, calendar: FreeCalendar, now: number, s: PlanSettings): number[] {
  // Nothing starts in the past or beyond the booking horizon (bookings are only read that far).
  const latest = now + s.horizonMs;
  const windows = (tree.startWindows.length ? tree.startWindows : [{ start: now, end: latest }])
    .map((w) => ({ start: Math.max(w.start, now), end: Math.min(w.end, latest) }))
    .filter((w) => w.start <= w.end);
  const releases = calendar.releases();
  const starts = new Set<number>();
  for (const w of windows) {
    for (let t = w.start; t <= w.end; t += s.slotMs) starts.add(t);
    // Capacity frees up where usage falls: the earliest times a blocked request can start.
    for (const r of releases) if (r >= w.start && r <= w.end) starts.add(r);
  }
  return [...starts].sort((a, b) => a - b).slice(0, s.maxCandidates);
}

/**
 * Plans up to `maxOffers` alternatives, each meeting the request's minimum for its whole interval.
 * The offers of one set are alternatives (accepting one rejects the rest), so each must fit on its own
 * beside what others booked and held, and they are stored as one group (counted at its largest offer in
 * each bucket): whichever the client takes, booked + held stays within capacity at every instant.
 */
export function planOffers(
  tree: RequestTree,
  calendar: FreeCalendar,
  now: number,
  s: PlanSettings,
): PlanResult {
  const span = s.prepareMs + tree.durationMs + s.releaseMs;
  const offers: PlannedOffer[] = [];
  const shortCount = { cores: 0, memory: 0, storage: 0 };
  const starts = candidateStarts(tree, calendar, now, s);
  if (starts.length === 0) return { ok: false, short: [], reason: 'window' };

  const tryAt = (start: number, size: 'max' | 'min'): PlannedOffer | undefined => {
    const free = calendar.free(start, start + span);
    const fits = { cores: free.cores >= tree.cores.min, memory: free.memoryGib >= tree.memoryGib.min, storage: free.storageGib >= tree.storageGib };
    if (!fits.cores || !fits.memory || !fits.storage) {
      if (offers.length === 0) for (const k of ['cores', 'memory', 'storage'] as const) if (!fits[k]) shortCount[k] += 1;
      return undefined;
    }
    const cores = size === 'max' ? Math.min(tree.cores.max, free.cores) : tree.cores.min;
    const memoryGib = size === 'max' ? Math.min(tree.memoryGib.max, free.memoryGib) : tree.memoryGib.min;
    return {
      prepareStart: start,
      availableStart: start + s.prepareMs,
      releaseStart: start + s.prepareMs + tree.durationMs,
      end: start + span,
      cores,
      memoryGib,
      storageGib: tree.storageGib,
    };
  };
  const take = (o: PlannedOffer) => { offers.push(o); };

  let lastStart = -Infinity;
  for (const start of starts) {
    if (offers.length >= s.maxOffers) break;
    if (start < lastStart + s.slotMs) continue;
    const best = tryAt(start, 'max');
    if (!best) continue;
    take(best);
    lastStart = start;
    // The first slot also gets a smaller alternative when the request has a range and it still fits.
    if (offers.length === 1 && offers.length < s.maxOffers && (best.cores > tree.cores.min || best.memoryGib > tree.memoryGib.min)) {
      const small = tryAt(start, 'min');
      if (small) take(small);
    }
  }
  if (offers.length) return { ok: true, offers };
  const short = (['cores', 'memory', 'storage'] as const).filter((k) => shortCount[k] > 0);
  return { ok: false, short, reason: 'capacity' };
}
