import { sql } from 'kysely';
import type { Db } from '../connect.js';

/** What past downloads from a source say: its rate, and how long a download took (the median). */
export interface TransferRecord {
  count: number;
  bytesPerSecond: number;
  medianMs: number;
}

/** Records one staging: `bytes` from `source` in `ms`. */
export async function recordTransfer(db: Db, source: string, bytes: number, ms: number): Promise<void> {
  await db.insertInto('transfer_history').values({ source, bytes, ms: Math.max(0, Math.round(ms)) }).execute();
}

/**
 * The recent history of each source (its last `recent` downloads): the overall rate (bytes over time,
 * so large transfers weigh most) and the median duration. Sources without history are left out.
 */
export async function transferHistory(db: Db, sources: readonly string[], recent = 20): Promise<Map<string, TransferRecord>> {
  if (!sources.length) return new Map();
  const rows = await sql<{ source: string; count: string; bytes: string; ms: string; median_ms: number }>`
    select source, count(*) as count, sum(bytes) as bytes, sum(ms) as ms,
           percentile_cont(0.5) within group (order by ms) as median_ms
    from (
      select source, bytes, ms, row_number() over (partition by source order by at desc, id desc) as n
      from transfer_history where source = any(${[...sources]})
    ) recent
    where n <= ${recent}
    group by source`.execute(db);
  return new Map(rows.rows.map((r) => [r.source, {
    count: Number(r.count),
    bytesPerSecond: Number(r.ms) > 0 ? (Number(r.bytes) * 1000) / Number(r.ms) : Infinity,
    medianMs: Number(r.median_ms),
  }]));
}
