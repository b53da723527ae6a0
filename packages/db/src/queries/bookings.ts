import { sql, type Transaction } from 'kysely';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';

type Executor = Db | Transaction<Database>;

export async function releaseBookings(trx: Executor, executionUuids: string[]): Promise<void> {
  if (executionUuids.length === 0) return;
  await trx
    .updateTable('bookings')
    .set({ released_at: sql<Date>`clock_timestamp()` })
    .where('execution_uuid', 'in', executionUuids)
    .where('released_at', 'is', null)
    .execute();
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
