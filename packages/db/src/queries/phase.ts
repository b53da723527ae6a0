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
  return (await applyPhaseRows(trx, uuids, from, to, note, { onlyIfEnded })).map((r) => r.uuid);
}

/**
 * applyPhase, answering when each execution moved (its new `modified`). `to` may be a path of phases
 * passed through in one change (each recorded, in order); only its last may move components. `state`
 * is merged into the executions' platform state with the move.
 */
export async function applyPhaseRows(
  trx: Transaction<Database> | Kysely<Database>,
  uuids: string[],
  from: ExecutionPhase,
  to: ExecutionPhase | readonly ExecutionPhase[],
  note?: string,
  opts: { onlyIfEnded?: boolean; state?: Record<string, unknown> } = {},
): Promise<{ uuid: string; modified: Date }[]> {
  const path = typeof to === 'string' ? [to] : [...to];
  path.forEach((p, i) => { if (!canTransition(i === 0 ? from : path[i - 1]!, p)) throw new Error(`illegal transition ${from} -> ${path.join(' -> ')}`); });
  if (path.slice(0, -1).some((p) => componentEffects[p])) throw new Error(`only the last phase of ${path.join(' -> ')} may move components`);
  if (uuids.length === 0) return [];
  const last = path.at(-1)!;
  const effect = componentEffects[last];
  // Which phases give the booking back at once is the state machine's (bookingRelease in @eb/schema).
  const releaseHold = releasesBookingAtOnce(path.at(-2) ?? from, last);
  const onlyIfEnded = opts.onlyIfEnded ?? false;
  const state = opts.state ? JSON.stringify(opts.state) : null;
  // Parts that would change nothing are left out: a bookings update, even of no row, runs its triggers.
  const components = effect ? sql`, components_moved as (
      update components set phase = ${effect.to}
      where execution_uuid in (select uuid from moved) and phase = any(${[...effect.from]}::text[])
      returning uuid, execution_uuid
    ), components_recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select execution_uuid, uuid, ${effect.to}, ${note ?? null} from components_moved
      on conflict do nothing
    )` : sql``;
  const released = releaseHold ? sql`, released as (
      update bookings set released_at = clock_timestamp()
      where execution_uuid in (select uuid from moved) and released_at is null
    )` : sql``;
  const { rows } = await sql<{ uuid: string; modified: Date }>`
    with moved as (
      update executions set phase = ${last}, modified = clock_timestamp(),
        platform_state = platform_state || coalesce(${state}::jsonb, '{}'::jsonb)
      where uuid = any(${uuids}::uuid[]) and phase = ${from} and (not ${onlyIfEnded} or release_start <= clock_timestamp())
      returning uuid, modified
    ), recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select m.uuid, null, p.phase, ${note ?? null}
      from moved m, unnest(${path}::text[]) with ordinality as p(phase, n) order by m.uuid, p.n
    )${components}${released}
    select uuid, modified, pg_notify(${PHASE_CHANNEL}, uuid::text) from moved`.execute(trx);
  return rows.map((r) => ({ uuid: r.uuid, modified: r.modified }));
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
