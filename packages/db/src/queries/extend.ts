import { sql, type Transaction } from 'kysely';
import { message, type ExecutionPhase } from '@eb/schema';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';
import { lockPlatform, type PlatformCapacity } from './platforms.js';
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
 * Whether `amounts` more fit on a platform at every instant of [from, to), beside its live bookings
 * and offer holds other than the execution's own. Offers of one set are alternatives and count at
 * their largest, as when planning. The one place that decides capacity for an extension.
 */
export async function extensionShortfall(
  trx: Transaction<Database>, capacity: PlatformCapacity, executionUuid: string, from: Date, to: Date, amounts: Amounts,
): Promise<('cores' | 'memory' | 'storage')[]> {
  const { rows } = await sql<{ cores: number; memory: number; storage: number }>`
    with live as (
      select case when b.hold_until is null then b.execution_uuid else e.offerset_uuid end as grp,
        b.cores, b.memory_gib, b.storage_gib, b.during
      from bookings b join executions e on e.uuid = b.execution_uuid
      where b.platform = ${capacity.name} and b.released_at is null and b.execution_uuid <> ${executionUuid}
        and (b.hold_until is null or b.hold_until > clock_timestamp())
        and b.during && tstzrange(${from}, ${to})
    ), instants as (
      select ${from}::timestamptz as at
      union select lower(during) from live where lower(during) > ${from} and lower(during) < ${to}
    ), per_group as (
      select i.at, l.grp, max(l.cores) as cores, max(l.memory_gib) as memory, max(l.storage_gib) as storage
      from instants i join live l on l.during @> i.at
      group by i.at, l.grp
    ), usage as (
      select at, sum(cores) as cores, sum(memory) as memory, sum(storage) as storage from per_group group by at
    )
    select coalesce(max(cores), 0)::int as cores, coalesce(max(memory), 0)::int as memory, coalesce(max(storage), 0)::int as storage
    from usage`.execute(trx);
  const peak = rows[0]!;
  const short: ('cores' | 'memory' | 'storage')[] = [];
  if (peak.cores + amounts.cores > capacity.cores) short.push('cores');
  if (peak.memory + amounts.memoryGib > capacity.memoryGib) short.push('memory');
  if (peak.storage + amounts.storageGib > capacity.storageGib) short.push('storage');
  return short;
}

/**
 * Gives an execution a longer available duration: under the platform's lock, re-checks its phase and
 * the capacity over the added time, then moves its release and its booking's end together, in one
 * transaction. Nothing changes unless all of it can.
 */
export async function extendAvailable(db: Db, uuid: string, availableMs: number, note: string): Promise<ExtendOutcome> {
  return db.transaction().execute(async (trx): Promise<ExtendOutcome> => {
    const first = await trx.selectFrom('executions').select('platform').where('uuid', '=', uuid).executeTakeFirst();
    if (!first) return { outcome: 'not-found' };
    const capacity = await lockPlatform(trx, first.platform);
    const e = await trx.selectFrom('executions').selectAll().where('uuid', '=', uuid).forUpdate().executeTakeFirstOrThrow();
    if (!EXTENDABLE_PHASES.includes(e.phase) || !capacity) return { outcome: 'conflict', phase: e.phase };
    const oldEnd = new Date(e.release_start.getTime() + e.release_ms);
    const releaseStart = new Date(e.available_start.getTime() + availableMs);
    const newEnd = new Date(releaseStart.getTime() + e.release_ms);
    if (newEnd > oldEnd) {
      const booking = await trx.selectFrom('bookings').select(['cores', 'memory_gib', 'storage_gib']).where('execution_uuid', '=', uuid).executeTakeFirstOrThrow();
      const short = await extensionShortfall(trx, capacity, uuid, oldEnd, newEnd, { cores: booking.cores, memoryGib: booking.memory_gib, storageGib: booking.storage_gib });
      if (short.length) return { outcome: 'no-capacity', short, from: oldEnd, to: newEnd };
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
}
