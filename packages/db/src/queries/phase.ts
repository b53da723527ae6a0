import { sql, type Transaction } from 'kysely';
import { canTransition, canTransitionComponent, componentEffects, type ExecutionPhase, type LifecyclePhase } from '@eb/schema';
import type { Database } from '../schema.js';
import { releaseBookings } from './bookings.js';

/** Channel on which every committed phase change is announced (payload: execution uuid). */
export const PHASE_CHANNEL = 'eb_execution_phase';

// Offers that end unaccepted give their hold back at once, and so does a completed execution (its
// platform release is already done). FAILED and CANCELLED keep theirs until the platform is released.
const RELEASES_HOLD: readonly ExecutionPhase[] = ['REJECTED', 'EXPIRED', 'COMPLETED'];

/**
 * Moves executions from one phase to another as a compare-and-set on the current phase, and records
 * the change. Returns the uuids that moved: an execution no longer in `from` is left alone, so a late or
 * repeated step is a no-op. Must run inside a transaction so the history and notification commit with it.
 */
export async function applyPhase(
  trx: Transaction<Database>,
  uuids: string[],
  from: ExecutionPhase,
  to: ExecutionPhase,
  note?: string,
): Promise<string[]> {
  if (!canTransition(from, to)) throw new Error(`illegal transition ${from} -> ${to}`);
  if (uuids.length === 0) return [];
  const moved = await trx
    .updateTable('executions')
    .set({ phase: to, modified: sql<Date>`clock_timestamp()` })
    .where('uuid', 'in', uuids)
    .where('phase', '=', from)
    .returning('uuid')
    .execute();
  const ids = moved.map((r) => r.uuid);
  if (ids.length === 0) return ids;
  await recordPhase(trx, ids, to, note);
  if (RELEASES_HOLD.includes(to) || (from === 'OFFERED' && to === 'CANCELLED')) await releaseBookings(trx, ids);
  return ids;
}

/** History, component phases and notification for executions that have just entered `to`. */
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
  const effect = componentEffects[to];
  if (effect) {
    const moved = await trx
      .updateTable('components')
      .set({ phase: effect.to })
      .where('execution_uuid', 'in', ids)
      .where('phase', 'in', [...effect.from])
      .returning(['uuid', 'execution_uuid'])
      .execute();
    if (moved.length) {
      await trx.insertInto('phase_history')
        .values(moved.map((c) => ({ execution_uuid: c.execution_uuid, component_uuid: c.uuid, phase: effect.to, note: note ?? null })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
  for (const id of ids) await sql`select pg_notify(${PHASE_CHANNEL}, ${id})`.execute(trx);
}

/**
 * Moves one component from one of `from` to `to` (compare-and-set), recording it once and announcing
 * the change on its execution. Returns false when the component was not in any of `from`.
 */
export async function transitionComponent(
  trx: Transaction<Database>,
  componentUuid: string,
  from: readonly LifecyclePhase[],
  to: LifecyclePhase,
  note?: string,
): Promise<boolean> {
  const allowed = from.filter((f) => canTransitionComponent(f, to));
  if (allowed.length === 0) throw new Error(`illegal component transition ${from.join('|')} -> ${to}`);
  const moved = await trx
    .updateTable('components')
    .set({ phase: to })
    .where('uuid', '=', componentUuid)
    .where('phase', 'in', allowed)
    .returning('execution_uuid')
    .executeTakeFirst();
  if (!moved) return false;
  await trx.insertInto('phase_history')
    .values({ execution_uuid: moved.execution_uuid, component_uuid: componentUuid, phase: to, note: note ?? null })
    .execute();
  await sql`select pg_notify(${PHASE_CHANNEL}, ${moved.execution_uuid})`.execute(trx);
  return true;
}
