import { sql, type Transaction } from 'kysely';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';

type Executor = Db | Transaction<Database>;

/**
 * Gives bookings back. With `countLater`, the capacity buckets keep counting them until countReleases:
 * releases of executions that ran, which would otherwise all wait on the same bucket rows.
 */
export async function releaseBookings(trx: Executor, executionUuids: string[], opts: { countLater?: boolean } = {}): Promise<void> {
  if (executionUuids.length === 0) return;
  await trx
    .updateTable('bookings')
    .set({ released_at: sql<Date>`clock_timestamp()`, release_counted: !opts.countLater })
    .where('execution_uuid', 'in', executionUuids)
    .where('released_at', 'is', null)
    .execute();
}

/**
 * Takes the releases not yet counted off the capacity buckets, up to `limit` at once, in one statement
 * (so each bucket row is written once for all of them); the number counted. Runs anywhere at once:
 * each takes releases the others have not locked.
 */
export async function countReleases(db: Db, platform: string, limit = 500): Promise<number> {
  const r = await sql`
    update bookings set release_counted = true
    where id in (select id from bookings where platform = ${platform} and not release_counted order by id limit ${limit} for update skip locked)`
    .execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function confirmBooking(trx: Executor, executionUuid: string): Promise<void> {
  await trx.updateTable('bookings').set({ hold_until: null }).where('execution_uuid', '=', executionUuid).execute();
}

export interface UsagePeak {
  platform: string;
  cores: number;
  memoryGib: number;
  storageGib: number;
  capacityCores: number;
  capacityMemoryGib: number;
  capacityStorageGib: number;
}

/**
 * Audit: for each platform, the highest sum of accepted bookings at any instant, in each dimension,
 * beside its capacity. Usage only rises where a booking starts, so those instants are enough.
 */
export async function peakAcceptedUsage(db: Db): Promise<UsagePeak[]> {
  const result = await sql<UsagePeak>`
    with accepted as (
      select b.* from bookings b join executions e on e.uuid = b.execution_uuid
      where e.phase not in ('OFFERED', 'REJECTED', 'EXPIRED', 'INITIAL')
    ), usage as (
      select p.platform, p.at,
        sum(a.cores) as cores, sum(a.memory_gib) as memory, sum(a.storage_gib) as storage
      from (select distinct platform, lower(during) as at from accepted) p
      join accepted a on a.platform = p.platform and a.during @> p.at
      group by p.platform, p.at
    )
    select u.platform, max(u.cores)::int as cores, max(u.memory)::int as "memoryGib", max(u.storage)::int as "storageGib",
      pl.cores as "capacityCores", pl.memory_gib as "capacityMemoryGib", pl.storage_gib as "capacityStorageGib"
    from usage u join platforms pl on pl.name = u.platform
    group by u.platform, pl.cores, pl.memory_gib, pl.storage_gib`.execute(db);
  return result.rows;
}
