// Closed-loop load: `concurrency` clients each sending the next request as soon as the last is answered.

export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  failures: number;
  p50: number;
  p99: number;
}

export function summarize(count: number, seconds: number, failures: number, latencies: number[]): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { count, seconds, perSecond: count / seconds, failures, p50: pct(50), p99: pct(99) };
}

/** Sends `count` requests round-robin over `urls`; each latency (ms) is also pushed onto `latencies`. */
export async function closedLoop(urls: string[], body: string, concurrency: number, count: number, expectStatus = 303, latencies: number[] = []): Promise<LoadResult> {
  const mine: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, client) => {
    while (next < count) {
      const url = urls[(next++ + client) % urls.length]!;
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
      mine.push(performance.now() - t0);
      if (res.status !== expectStatus) failures += 1;
    }
  }));
  latencies.push(...mine);
  return summarize(count, (performance.now() - started) / 1000, failures, mine);
}

export const describeLoad = (r: LoadResult) =>
  `${r.perSecond.toFixed(1)} req/s (p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms${r.failures ? `, ${r.failures} failed` : ''})`;
