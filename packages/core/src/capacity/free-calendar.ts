import type { Amounts, CalendarSnapshot } from '@eb/db';

type Dim = keyof Amounts;
const DIMS: Dim[] = ['cores', 'memoryGib', 'storageGib'];

/**
 * Free capacity over time, as the database counts it: per bucket, from the bucket holding `now` to the
 * end of what was read. Answers "least free over [start, end)" in constant time (a sparse table of
 * minima per dimension), so a planner can try many start times cheaply.
 */
export class FreeCalendar {
  readonly bucketMs: number;
  private readonly origin: number;
  private readonly length: number;
  /** levels[d][k][i]: least free of dimension d over buckets i .. i + 2^k - 1. */
  private readonly levels: Record<Dim, Int32Array[]>;

  constructor(snapshot: CalendarSnapshot, horizonMs: number) {
    const { bucketMs, capacity } = snapshot;
    this.bucketMs = bucketMs;
    const now = snapshot.now.getTime();
    this.origin = Math.floor(now / bucketMs) * bucketMs;
    this.length = Math.max(1, Math.ceil((now + horizonMs - this.origin) / bucketMs));
    const full: Amounts = { cores: capacity.cores, memoryGib: capacity.memoryGib, storageGib: capacity.storageGib };
    this.levels = { cores: [], memoryGib: [], storageGib: [] };
    for (const d of DIMS) {
      const base = new Int32Array(this.length).fill(full[d]);
      snapshot.starts.forEach((start, j) => {
        const i = Math.round((start - this.origin) / bucketMs);
        if (i >= 0 && i < this.length) base[i] = Math.min(full[d], snapshot.free[d][j]!);
      });
      const levels = [base];
      for (let k = 1; 1 << k <= this.length; k++) {
        const prev = levels[k - 1]!;
        const half = 1 << (k - 1);
        const next = new Int32Array(this.length - (1 << k) + 1);
        for (let i = 0; i < next.length; i++) next[i] = Math.min(prev[i]!, prev[i + half]!);
        levels.push(next);
      }
      this.levels[d] = levels;
    }
  }

  private index(t: number): number {
    return Math.floor((t - this.origin) / this.bucketMs);
  }

  /** Least free over buckets first..last; nothing is free outside what was read. */
  private freeIn(first: number, last: number): Amounts {
    if (first < 0 || last >= this.length || last < first) return { cores: 0, memoryGib: 0, storageGib: 0 };
    const k = 31 - Math.clz32(last - first + 1);
    const out = { cores: 0, memoryGib: 0, storageGib: 0 };
    for (const d of DIMS) {
      const level = this.levels[d][k]!;
      out[d] = Math.min(level[first]!, level[last - (1 << k) + 1]!);
    }
    return out;
  }

  /** Least free capacity at any instant of [start, end); nothing is free outside what was read. */
  free(start: number, end: number): Amounts {
    return this.freeIn(this.index(start), this.index(end - 1));
  }

  /**
   * Least free capacity over [start, end) for a booking that already holds `own` from `ownStart` on:
   * where the two overlap, what it holds itself is free to it.
   */
  freeBeside(start: number, end: number, ownStart: number, own: Amounts): Amounts {
    const first = this.index(start);
    const last = this.index(end - 1);
    const overlap = Math.max(first, this.index(ownStart));
    if (overlap > last) return this.freeIn(first, last);
    const shared = this.freeIn(overlap, last);
    const beside = { cores: shared.cores + own.cores, memoryGib: shared.memoryGib + own.memoryGib, storageGib: shared.storageGib + own.storageGib };
    if (overlap === first) return beside;
    const before = this.freeIn(first, overlap - 1);
    return { cores: Math.min(before.cores, beside.cores), memoryGib: Math.min(before.memoryGib, beside.memoryGib), storageGib: Math.min(before.storageGib, beside.storageGib) };
  }

  /** Bucket starts where more becomes free: the earliest times a blocked request might fit. */
  releases(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.length; i++) {
      if (DIMS.some((d) => this.levels[d][0]![i]! > this.levels[d][0]![i - 1]!)) out.push(this.origin + i * this.bucketMs);
    }
    return out;
  }
}
