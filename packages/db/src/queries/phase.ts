import { sql, type Kysely, type Transaction } from 'kysely';
import { canTransition, componentEffects, releasesBookingAtOnce, type ExecutionPhase } from '@eb/schema';
import type { Database } from '../schema.js';

/** Channel on which every committed phase change is announced (payload: execution uuid). */
export const PHASE_CHANNEL = 'eb_execution_phase';

/**
 * Moves executions from one phase to another as a compare-and-set on the current phase, and records
 * the change. Returns the uuids that moved: an execution no longer in `from` is left alone, so a late or
 * repeated step is a no-op.
 */
export async function applyPhase(
  trx: Transaction<Database> | Kysely<Database>,
  uuids: string[],
  from: ExecutionPhase,
  to: ExecutionPhase,
  note?: string,
  /** Only executions whose booked available time has ended (re-checked in the same statement). */
  onlyIfEnded = false,
): Promise<string[]> {
  if (!canTransition(from, to)) throw new Error(`illegal transition ${from} -> ${to}`);
  if (uuids.length === 0) return [];
  const effect = componentEffects[to];
  // Which phases give the booking back at once is the state machine's (bookingRelease in @eb/schema).
  const releaseHold = releasesBookingAtOnce(from, to);
  // One statement, so one round trip and atomic even outside a transaction: the move, its history,
  // what it does to the components, the hold it gives back, and the notification.
  const { rows } = await sql<{ uuid: string }>`
    with moved as (
      update executions set phase = ${to}, modified = clock_timestamp()
      where uuid = any(${uuids}::uuid[]) and phase = ${from} and (not ${onlyIfEnded} or release_start <= clock_timestamp())
      returning uuid
    ), recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select uuid, null, ${to}, ${note ?? null} from moved
    ), components_moved as (
      update components set phase = ${effect?.to ?? 'INITIALIZING'}
      where execution_uuid in (select uuid from moved) and phase = any(${[...(effect?.from ?? [])]}::text[])
      returning uuid, execution_uuid
    ), components_recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select execution_uuid, uuid, ${effect?.to ?? 'INITIALIZING'}, ${note ?? null} from components_moved
      on conflict do nothing
    ), released as (
      update bookings set released_at = clock_timestamp()
      where ${releaseHold} and execution_uuid in (select uuid from moved) and released_at is null
    )
    select uuid, pg_notify(${PHASE_CHANNEL}, uuid::text) from moved`.execute(trx);
  return rows.map((r) => r.uuid);
}

/**
 * History and notification for executions that have just entered `to` by a change made elsewhere
 * (creation as OFFERED, acceptance). Those phases leave the components as they are; phases that move
 * components go through applyPhase.
 */
export async function recordPhase(
  trx: Transaction<Database>,
  ids: string[],
  to: ExecutionPhase,
  note?: string,
): Promise<void> {
  await trx
    .insertInto('phase_history')
    .values(ids.map((id) => ({ execution_uuid: id, component_uuid: null, phase: to, note: note ?? null })))
    .execute();
  await sql`select pg_notify(${PHASE_CHANNEL}, id::text) from unnest(${ids}::uuid[]) as id`.execute(trx);
}
