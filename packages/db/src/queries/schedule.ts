import { sql } from 'kysely';
import type { ExecutionPhase, MessageItem } from '@eb/schema';
import type { Db } from '../connect.js';
import { isCapacityConflict } from './capacity.js';
import { PHASE_CHANNEL } from './phase.js';

/** An accepted execution booked to start later that its request allows to start sooner. */
export interface EarlyCandidate {
  uuid: string;
  phase: ExecutionPhase;
  prepareStart: Date;
  earliestStart: Date;
  /** Its whole booked interval, preparation to the end of release. */
  spanMs: number;
  cores: number;
  memoryGib: number;
  storageGib: number;
}

/**
 * A platform's executions waiting for a booked start later than `now` allows, in the order they were
 * booked to start (first booked, first moved), as of the database clock.
 */
export async function earlyStartCandidates(db: Db, platform: string, limit = 200): Promise<{ now: Date; candidates: EarlyCandidate[] }> {
  const { rows } = await sql<EarlyCandidate & { now: Date }>`
    select clock_timestamp() as now, uuid, phase, prepare_start as "prepareStart", earliest_start as "earliestStart",
      (extract(epoch from release_start - prepare_start) * 1000)::float8 + release_ms as "spanMs",
      cores, memory_gib as "memoryGib", storage_gib as "storageGib"
    from executions
    where platform = ${platform} and phase in ('ACCEPTED', 'WAITING') and earliest_start is not null
      and prepare_start > greatest(earliest_start, clock_timestamp())
    order by prepare_start, created
    limit ${limit}`.execute(db);
  return { now: rows[0]?.now ?? new Date(), candidates: rows.map(({ now: _now, ...c }) => c) };
}

/**
 * Moves an accepted execution's whole booking earlier, from `from` to `to`, if it is still waiting for
 * `from` and the capacity is free there (the database refuses the new interval otherwise): one
 * statement, so the schedule and the booking move together. False when it could not move.
 */
export async function moveBookedStart(db: Db, uuid: string, from: Date, to: Date, note: MessageItem): Promise<boolean> {
  const shiftMs = to.getTime() - from.getTime();
  try {
    const { rows } = await sql<{ uuid: string }>`
      with moved as (
        update executions set
          prepare_start = ${to}, available_start = available_start + ${shiftMs} * interval '1 millisecond',
          release_start = release_start + ${shiftMs} * interval '1 millisecond', modified = clock_timestamp(),
          messages = messages || ${JSON.stringify([note])}::jsonb
        where uuid = ${uuid} and phase in ('ACCEPTED', 'WAITING') and prepare_start = ${from}
        returning uuid, prepare_start, release_start, release_ms
      ), rebooked as (
        update bookings b set during = tstzrange(m.prepare_start, m.release_start + m.release_ms * interval '1 millisecond')
        from moved m where b.execution_uuid = m.uuid and b.released_at is null
      )
      select uuid, pg_notify(${PHASE_CHANNEL}, uuid::text) from moved`.execute(db);
    return rows.length === 1;
  } catch (err) {
    if (isCapacityConflict(err)) return false;
    throw err;
  }
}
