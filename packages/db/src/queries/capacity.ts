import { sql, type Transaction } from 'kysely';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';
import type { PlatformCapacity } from './platforms.js';

/** Width of a capacity bucket: eb_bucket_width() in migration 0003 (readCalendar reads it from there). */
export const BUCKET_MS = 300_000;

export interface Amounts {
  cores: number;
  memoryGib: number;
  storageGib: number;
}

/**
 * A platform's free capacity per bucket from one bucket before `now` to the end of a span, as of one
 * instant. Buckets not listed have nothing booked: all of `capacity` is free there.
 */
export interface CalendarSnapshot {
  /** The database clock when this was read: plans start from here. */
  now: Date;
  capacity: PlatformCapacity;
  bucketMs: number;
  /** Bucket starts (ms since the epoch), ascending. */
  starts: number[];
  /** Free capacity in each listed bucket (never above `capacity`). */
  free: { cores: number[]; memoryGib: number[]; storageGib: number[] };
  /** Some offers on the platform have lapsed but still hold capacity until they are expired. */
  lapsedHolds: boolean;
  /** Some bookings were given back but are still counted until countReleases. */
  uncountedReleases: boolean;
}

/** Reads what is free on a platform over [now, now + spanMs), in one round trip; undefined for an unknown platform. */
export async function readCalendar(db: Db | Transaction<Database>, platform: string, spanMs: number): Promise<CalendarSnapshot | undefined> {
  const { rows } = await sql<{
    now: Date; bucket_ms: number; name: string; cores: number; memory_gib: number; storage_gib: number;
    starts: number[] | null; cores_free: number[] | null; memory_free: number[] | null; storage_free: number[] | null; lapsed: boolean; uncounted: boolean;
  }>`
    with clock as (select clock_timestamp() as now)
    select c.now, extract(epoch from eb_bucket_width())::float8 * 1000 as bucket_ms, p.name, p.cores, p.memory_gib, p.storage_gib, b.starts, b.cores_free, b.memory_free, b.storage_free,
      exists (select 1 from executions e where e.phase = 'OFFERED' and e.expires <= c.now and e.platform = p.name) as lapsed,
      exists (select 1 from bookings k where k.platform = p.name and not k.release_counted) as uncounted
    from platforms p cross join clock c
    left join lateral (
      select array_agg((extract(epoch from bucket) * 1000)::float8 order by bucket) as starts,
             array_agg(least(cores_cap, p.cores) - cores_used order by bucket) as cores_free,
             array_agg(least(memory_cap, p.memory_gib) - memory_used order by bucket) as memory_free,
             array_agg(least(storage_cap, p.storage_gib) - storage_used order by bucket) as storage_free
      from capacity_buckets
      where platform = p.name
        and bucket >= date_bin(eb_bucket_width(), c.now, timestamptz 'epoch')
        and bucket < c.now + ${spanMs} * interval '1 millisecond'
    ) b on true
    where p.name = ${platform}`.execute(db);
  const r = rows[0];
  if (!r) return undefined;
  return {
    now: r.now,
    capacity: { name: r.name, cores: r.cores, memoryGib: r.memory_gib, storageGib: r.storage_gib },
    bucketMs: r.bucket_ms,
    starts: r.starts ?? [],
    free: { cores: r.cores_free ?? [], memoryGib: r.memory_free ?? [], storageGib: r.storage_free ?? [] },
    lapsedHolds: r.lapsed,
    uncountedReleases: r.uncounted,
  };
}

/**
 * The least free capacity at any instant of [from, to) on one platform, as the database counts it: what
 * a new booking of that interval may take. (A booking that would take more is refused by the database
 * anyway; this is for deciding before trying, e.g. whether an execution can be extended.)
 */
export async function freeCapacity(db: Db, platform: string, from: Date, to: Date): Promise<Amounts | undefined> {
  const { rows } = await sql<Amounts>`
    select greatest(0, least(p.cores, coalesce(min(least(b.cores_cap, p.cores) - b.cores_used), p.cores)))::int as cores,
           greatest(0, least(p.memory_gib, coalesce(min(least(b.memory_cap, p.memory_gib) - b.memory_used), p.memory_gib)))::int as "memoryGib",
           greatest(0, least(p.storage_gib, coalesce(min(least(b.storage_cap, p.storage_gib) - b.storage_used), p.storage_gib)))::int as "storageGib"
    from platforms p
    left join capacity_buckets b on b.platform = p.name
      and b.bucket >= date_bin(eb_bucket_width(), ${from}::timestamptz, timestamptz 'epoch') and b.bucket < ${to}::timestamptz
    where p.name = ${platform}
    group by p.cores, p.memory_gib, p.storage_gib`.execute(db);
  return rows[0];
}

/** True for the database refusing a booking that would go over a platform's capacity somewhere. */
export function isCapacityConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string } | undefined;
  return e?.code === '23514' && e.constraint === 'capacity_buckets_within';
}

/** Drops buckets well in the past with nothing booked in them, so the table stays the size of the calendar. */
export async function pruneCapacityBuckets(db: Db, platform: string, olderThanMs = 86_400_000): Promise<number> {
  const r = await db.deleteFrom('capacity_buckets')
    .where('platform', '=', platform)
    .where('bucket', '<', sql<Date>`clock_timestamp() - ${olderThanMs} * interval '1 millisecond'`)
    .where('cores_used', '=', 0).where('memory_used', '=', 0).where('storage_used', '=', 0)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Audit: buckets whose counted use differs from a recount of the live bookings (each group at its
 * largest). Empty when the triggers kept the count exact.
 */
export async function capacityCountMismatches(db: Db, platform: string): Promise<{ bucket: Date; counted: number; actual: number }[]> {
  const { rows } = await sql<{ bucket: Date; counted: number; actual: number }>`
    with actual as (
      select bucket, sum(cores)::int as cores, sum(memory)::int as memory, sum(storage)::int as storage from (
        select grp, t as bucket, max(cores) as cores, max(memory_gib) as memory, max(storage_gib) as storage
        from bookings, eb_buckets_of(during) t where platform = ${platform} and eb_counted_live(released_at, release_counted) group by grp, t
      ) g group by bucket
    )
    select coalesce(c.bucket, a.bucket) as bucket, coalesce(c.cores_used, 0) as counted, coalesce(a.cores, 0) as actual
    from (select * from capacity_buckets where platform = ${platform}) c
    full join actual a on a.bucket = c.bucket
    where (coalesce(c.cores_used, 0), coalesce(c.memory_used, 0), coalesce(c.storage_used, 0))
          is distinct from (coalesce(a.cores, 0), coalesce(a.memory, 0), coalesce(a.storage, 0))
    order by 1`.execute(db);
  return rows;
}
