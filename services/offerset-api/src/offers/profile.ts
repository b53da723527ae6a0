import type { LiveBooking, PlatformCapacity } from '@eb/db';

export interface Amounts {
  cores: number;
  memoryGib: number;
  storageGib: number;
}

type Dim = keyof Amounts;
const DIMS: Dim[] = ['cores', 'memoryGib', 'storageGib'];

/**
 * Platform usage over time as a step function, built once per plan by one sweep over the bookings.
 * A group of alternative holds (one offer set) counts at its largest active member in each dimension.
 * `times[i]` is where usage changes to `usage[i]`; before `times[0]` nothing is used.
 */
export class UsageProfile {
  readonly times: number[] = [];
  private readonly usage: Amounts[] = [];

  constructor(bookings: LiveBooking[]) {
    const events: [number, LiveBooking, 1 | -1][] = [];
    for (const b of bookings) events.push([b.start, b, 1], [b.end, b, -1]);
    events.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
    const active = new Map<string, LiveBooking[]>();
    const contribution = new Map<string, Amounts>();
    const used: Amounts = { cores: 0, memoryGib: 0, storageGib: 0 };
    for (const [t, b, sign] of events) {
      const members = active.get(b.group) ?? [];
      if (sign === 1) members.push(b);
      else members.splice(members.indexOf(b), 1);
      if (members.length) active.set(b.group, members);
      else active.delete(b.group);
      const before = contribution.get(b.group) ?? { cores: 0, memoryGib: 0, storageGib: 0 };
      const after: Amounts = { cores: 0, memoryGib: 0, storageGib: 0 };
      for (const m of members) for (const d of DIMS) after[d] = Math.max(after[d], m[d]);
      contribution.set(b.group, after);
      for (const d of DIMS) used[d] += after[d] - before[d];
      // Several events at one instant make one step.
      if (this.times.at(-1) === t) this.usage[this.usage.length - 1] = { ...used };
      else {
        this.times.push(t);
        this.usage.push({ ...used });
      }
    }
  }

  /** Index of the last step at or before t, or -1. */
  private stepAt(t: number): number {
    let lo = 0;
    let hi = this.times.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  /** Highest usage at any instant of [start, end). */
  peak(start: number, end: number): Amounts {
    const peak: Amounts = { cores: 0, memoryGib: 0, storageGib: 0 };
    const take = (i: number) => { for (const d of DIMS) peak[d] = Math.max(peak[d], this.usage[i]![d]); };
    // The step in force at `start`, then every step that begins before `end`.
    const first = this.stepAt(start);
    if (first >= 0) take(first);
    for (let i = first + 1; i < this.times.length && this.times[i]! < end; i++) take(i);
    return peak;
  }

  /** Least free capacity at any instant of [start, end). */
  free(capacity: PlatformCapacity, start: number, end: number): Amounts {
    const p = this.peak(start, end);
    return { cores: capacity.cores - p.cores, memoryGib: capacity.memoryGib - p.memoryGib, storageGib: capacity.storageGib - p.storageGib };
  }

  /** Instants where usage falls: the earliest times a blocked request might fit. */
  releases(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.times.length; i++) {
      const prev = this.usage[i - 1]!;
      const cur = this.usage[i]!;
      if (DIMS.some((d) => cur[d] < prev[d])) out.push(this.times[i]!);
    }
    return out;
  }
}
