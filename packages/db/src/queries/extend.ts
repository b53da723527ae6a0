import { sql, type Transaction } from 'kysely';
import { message, type ExecutionPhase } from '@eb/schema';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';
import { findPlatform, type PlatformCapacity } from './platforms.js';
import { isCapacityConflict } from './capacity.js';
import { countReleases } from './bookings.js';
import { expireOffers } from './executions.js';
import { PHASE_CHANNEL } from './phase.js';

/** The phases in which an execution's available duration may still be changed (its booking is live). */
export const EXTENDABLE_PHASES: readonly ExecutionPhase[] = ['ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING'];

export type ExtendOutcome =
  | { outcome: 'extended'; availableMs: number; releaseStart: Date }
  | { outcome: 'not-found' }
  | { outcome: 'conflict'; phase: ExecutionPhase }
  | { outcome: 'no-capacity'; short: ('cores' | 'memory' | 'storage')[]; from: Date; to: Date };

interface Amounts { cores: number; memoryGib: number; storageGib: number }

/**
 * Whether `amounts` more fit on a platform at every instant of [from, to), where `from` is the end of
 * the execution's own booking: counted as the database counts (capacity buckets; a bucket that already
 * holds the booking's last moments holds it already). The one place that decides capacity for an
 * extension; the database refuses the longer booking anyway if this was out of date.
 */
export async function extensionShortfall(
  trx: Transaction<Database> | Db, capacity: PlatformCapacity, _executionUuid: string, from: Date, to: Date, amounts: Amounts,
): Promise<('cores' | 'memory' | 'storage')[]> {
  const { rows } = await sql<{ cores: number; memory: number; storage: number }>`
    select coalesce(min(least(cores_cap, ${capacity.cores}::int) - cores_used), ${capacity.cores}::int)::int as cores,
           coalesce(min(least(memory_cap, ${capacity.memoryGib}::int) - memory_used), ${capacity.memoryGib}::int)::int as memory,
           coalesce(min(least(storage_cap, ${capacity.storageGib}::int) - storage_used), ${capacity.storageGib}::int)::int as storage
    from capacity_buckets
    where platform = ${capacity.name} and bucket >= ${from}::timestamptz and bucket < ${to}::timestamptz`.execute(trx);
  const free = rows[0]!;
  const short: ('cores' | 'memory' | 'storage')[] = [];
  if (amounts.cores > Math.min(free.cores, capacity.cores)) short.push('cores');
  if (amounts.memoryGib > Math.min(free.memory, capacity.memoryGib)) short.push('memory');
  if (amounts.storageGib > Math.min(free.storage, capacity.storageGib)) short.push('storage');
  return short;
}

/**
 * Gives an execution a longer available duration: re-checks its phase (row lock) and the capacity over
 * the added time, then moves its release and its booking's end together, in one transaction. The
 * database counts the longer booking and refuses it if it would overbook. Nothing changes unless all
 * of it can.
 */
export async function extendAvailable(db: Db, uuid: string, availableMs: number, note: string): Promise<ExtendOutcome> {
  const first = await db.selectFrom('executions').select('platform').where('uuid', '=', uuid).executeTakeFirst();
  if (!first) return { outcome: 'not-found' };
  // Holds that lapsed still count until expired, and releases until counted: give them back first.
  await expireOffers(db, 1000, first.platform);
  await countReleases(db, first.platform);
  let shortfall: ExtendOutcome | undefined;
  try {
    return await db.transaction().execute(async (trx): Promise<ExtendOutcome> => {
      const capacity = await findPlatform(trx, first.platform);
      const e = await trx.selectFrom('executions').selectAll().where('uuid', '=', uuid).forUpdate().executeTakeFirstOrThrow();
      if (!EXTENDABLE_PHASES.includes(e.phase) || !capacity) return { outcome: 'conflict', phase: e.phase };
      const oldEnd = new Date(e.release_start.getTime() + e.release_ms);
      const releaseStart = new Date(e.available_start.getTime() + availableMs);
      const newEnd = new Date(releaseStart.getTime() + e.release_ms);
      if (newEnd > oldEnd) {
        const booking = await trx.selectFrom('bookings').select(['cores', 'memory_gib', 'storage_gib']).where('execution_uuid', '=', uuid).executeTakeFirstOrThrow();
        const amounts = { cores: booking.cores, memoryGib: booking.memory_gib, storageGib: booking.storage_gib };
        const short = await extensionShortfall(trx, capacity, uuid, oldEnd, newEnd, amounts);
        shortfall = { outcome: 'no-capacity', short: short.length ? short : ['cores'], from: oldEnd, to: newEnd };
        if (short.length) return shortfall;
      }
      const m = message('urn:schedule-change', 'INFO', 'The available duration was changed to {duration} ms: {note}', { duration: availableMs, note });
      await trx.updateTable('executions')
        .set({ available_ms: availableMs, release_start: releaseStart, modified: sql<Date>`clock_timestamp()`, messages: sql`messages || ${JSON.stringify([m])}::jsonb` })
        .where('uuid', '=', uuid)
        .execute();
      await trx.updateTable('bookings')
        .set({ during: sql<string>`tstzrange(lower(during), ${newEnd})` })
        .where('execution_uuid', '=', uuid)
        .execute();
      await sql`select pg_notify(${PHASE_CHANNEL}, ${uuid})`.execute(trx);
      return { outcome: 'extended', availableMs, releaseStart };
    });
  } catch (err) {
    // Another booking took the time between the check and the update: the database refused it.
    if (isCapacityConflict(err) && shortfall) return shortfall;
    throw err;
  }
}
