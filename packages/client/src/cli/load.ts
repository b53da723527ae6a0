import type { BrokerClient } from '../client.js';
import { NoOffersError } from '../errors.js';

export interface LoadSummary {
  count: number;
  seconds: number;
  offersPerSecond: number;
  acceptsPerSecond: number;
  phases: Record<string, number>;
  offerMs: number[];
  acceptToAvailableMs: number[];
  acceptToCompletedMs: number[];
  errors: number;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/**
 * Runs `count` request -> accept-first -> wait-to-end cycles, `concurrency` at a time, and measures
 * offer latency and acceptance-to-AVAILABLE / -COMPLETED times. Bounded in count and time.
 */
export async function runLoad(client: BrokerClient, request: string, count: number, concurrency: number, timeoutMs: number): Promise<LoadSummary> {
  const s: LoadSummary = { count, seconds: 0, offersPerSecond: 0, acceptsPerSecond: 0, phases: {}, offerMs: [], acceptToAvailableMs: [], acceptToCompletedMs: [], errors: 0 };
  let next = 0;
  let accepts = 0;
  const started = Date.now();
  const one = async () => {
    const t0 = Date.now();
    let set;
    try {
      set = await client.requestOffers(request);
    } catch {
      s.errors += 1;
      return;
    }
    const t1 = Date.now();
    s.offerMs.push(t1 - t0);
    let offer;
    try {
      offer = client.pickOffer(set);
    } catch (err) {
      if (err instanceof NoOffersError) { s.phases.NO_OFFER = (s.phases.NO_OFFER ?? 0) + 1; return; }
      throw err;
    }
    const uuid = offer.meta!.uuid!;
    try {
      await client.accept(uuid);
    } catch {
      s.phases.ACCEPT_REFUSED = (s.phases.ACCEPT_REFUSED ?? 0) + 1;
      return;
    }
    accepts += 1;
    const acceptedAt = Date.now();
    let availableAt: number | undefined;
    const end = await client.waitUntilTerminal(uuid, {
      timeoutMs,
      onUpdate: (e) => { if (availableAt === undefined && (e.phase === 'AVAILABLE' || e.phase === 'RELEASING' || e.phase === 'COMPLETED')) availableAt = Date.now(); },
    }).catch(() => undefined);
    const phase = end?.phase ?? 'TIMED_OUT';
    s.phases[phase] = (s.phases[phase] ?? 0) + 1;
    if (availableAt !== undefined) s.acceptToAvailableMs.push(availableAt - acceptedAt);
    if (phase === 'COMPLETED') s.acceptToCompletedMs.push(Date.now() - acceptedAt);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < count) {
      next += 1;
      await one();
    }
  }));
  s.seconds = (Date.now() - started) / 1000;
  s.offersPerSecond = s.offerMs.length / s.seconds;
  s.acceptsPerSecond = accepts / s.seconds;
  return s;
}

export function summaryTable(s: LoadSummary): string {
  const row = (name: string, xs: number[]) =>
    `  ${name.padEnd(22)} ${String(xs.length).padStart(6)} ${[50, 95, 99].map((p) => pct(xs, p).toFixed(0).padStart(8)).join('')}`;
  return [
    `load: ${s.count} executions in ${s.seconds.toFixed(1)} s; ${s.offersPerSecond.toFixed(1)} offers/s, ${s.acceptsPerSecond.toFixed(1)} accepts/s; ${s.errors} errors`,
    `  final phase: ${Object.entries(s.phases).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  ${'ms'.padEnd(22)} ${'n'.padStart(6)} ${'p50'.padStart(8)}${'p95'.padStart(8)}${'p99'.padStart(8)}`,
    row('offer latency', s.offerMs),
    row('accept -> AVAILABLE', s.acceptToAvailableMs),
    row('accept -> COMPLETED', s.acceptToCompletedMs),
  ].join('\n');
}
