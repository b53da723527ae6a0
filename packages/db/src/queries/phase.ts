import { sql, type Transaction } from 'kysely';
import { canTransition, componentPhaseFor, type ExecutionPhase } from '@eb/schema';
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
  if (RELEASES_HOLD.includes(to)) await releaseBookings(trx, ids);
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
  await trx
    .updateTable('components')
    .set({ phase: componentPhaseFor(to) })
    .where('execution_uuid', 'in', ids)
    .where('phase', 'not in', ['COMPLETED', 'FAILED', 'CANCELLED'])
    .execute();
  for (const id of ids) await sql`select pg_notify(${PHASE_CHANNEL}, ${id})`.execute(trx);
}
