import { sql, type Kysely, type Transaction } from 'kysely';
import {
  canTransition, canTransitionComponent, componentEffects, releasesBookingAtOnce, type ExecutionPhase, type LifecyclePhase, type MessageItem,
} from '@eb/schema';
import type { Database } from '../schema.js';
import { storableJson } from './json.js';
import { upsertOutputs, type CapturedStream } from './outputs.js';

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
 * A change to one component, made in the same statement as its execution's move and only if that
 * move is made: what a worker's pass learnt of the component on the platform since its last change.
 */
export interface ComponentChange {
  uuid: string;
  /** The component's phase as the pass knows it (compare-and-set when `path` moves it). */
  from: LifecyclePhase;
  /** Phases it passes through, each recorded with its note; empty to keep only state and messages. */
  path: readonly LifecyclePhase[];
  notes: readonly string[];
  /** When each phase was reached, relative to the other changes (history is recorded in this order). */
  order?: readonly number[];
  /** Its platform state, replacing what was kept for it. */
  state?: Record<string, unknown>;
  messages?: readonly MessageItem[];
}

/**
 * applyPhase, answering when each execution moved (its new `modified`). `to` may be a path of phases
 * passed through in one change (each recorded, in order); only one of them may move components. `state`
 * is merged into the executions' platform state with the move, and `components` are changed with it
 * (see ComponentChange): the move's effect on components applies to those after their own change.
 */
export async function applyPhaseRows(
  trx: Transaction<Database> | Kysely<Database>,
  uuids: string[],
  from: ExecutionPhase,
  to: ExecutionPhase | readonly ExecutionPhase[],
  note?: string,
  opts: MoveOptions = {},
): Promise<{ uuid: string; modified: Date }[]> {
  const path = typeof to === 'string' ? [to] : [...to];
  path.forEach((p, i) => { if (!canTransition(i === 0 ? from : path[i - 1]!, p)) throw new Error(`illegal transition ${from} -> ${path.join(' -> ')}`); });
  const moving = path.filter((p) => componentEffects[p]);
  if (moving.length > 1) throw new Error(`only one phase of ${path.join(' -> ')} may move components`);
  if (uuids.length === 0) return [];
  const last = path.at(-1)!;
  const effect = moving[0] && componentEffects[moving[0]];
  // Which phases give the booking back at once is the state machine's (bookingRelease in @eb/schema).
  const releaseHold = releasesBookingAtOnce(path.at(-2) ?? from, last);
  const onlyIfEnded = opts.onlyIfEnded ?? false;
  const changes = (opts.components ?? []).map((c) => withEffect(c, effect, note));
  const states = Object.fromEntries(changes.filter((c) => c.state).map((c) => [c.uuid, c.state]));
  const patch = opts.state || changes.some((c) => c.state) ? storableJson({ ...opts.state, ...states }) : null;
  const changed = changes.length ? changedComponents(changes) : sql``;
  const outputs = opts.outputs?.length ? keptOutputs(opts.outputs) : sql``;
  // Parts that would change nothing are left out: a bookings update, even of no row, runs its triggers.
  const components = effect ? sql`, components_moved as (
      update components set phase = ${effect.to}
      where execution_uuid in (select uuid from moved) and phase = any(${[...effect.from]}::text[])
        and uuid <> all(${changes.map((c) => c.uuid)}::uuid[])
      returning uuid, execution_uuid
    ), components_recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select execution_uuid, uuid, ${effect.to}, ${note ?? null} from components_moved
      on conflict do nothing
    )` : sql``;
  // An offer's hold is counted off at once (a planner may want it now); what an execution booked and
  // used is counted off in batches (countReleases), so that completions do not queue on bucket rows.
  const countNow = from === 'OFFERED';
  const released = releaseHold ? sql`, released as (
      update bookings set released_at = clock_timestamp(), release_counted = ${countNow}
      where execution_uuid in (select uuid from moved) and released_at is null
    )` : sql``;
  const { rows } = await sql<{ uuid: string; modified: Date }>`
    with moved as (
      update executions set phase = ${last}, modified = clock_timestamp(),
        platform_state = platform_state || coalesce(${patch}::jsonb, '{}'::jsonb),
        messages = messages || coalesce(${opts.messages?.length ? storableJson(opts.messages) : null}::jsonb, '[]'::jsonb)
      where uuid = any(${uuids}::uuid[]) and phase = ${from} and (not ${onlyIfEnded} or release_start <= clock_timestamp())
      returning uuid, modified
    ), recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select m.uuid, null, p.phase, coalesce((${opts.notes ?? []}::text[])[p.n], ${note ?? null})
      from moved m, unnest(${path}::text[]) with ordinality as p(phase, n) order by m.uuid, p.n
    )${changed}${outputs}${components}${released}
    select uuid, modified, pg_notify(${PHASE_CHANNEL}, uuid::text) from moved`.execute(trx);
  return rows.map((r) => ({ uuid: r.uuid, modified: r.modified }));
}

/** What a phase move also does in its one statement. */
export interface MoveOptions {
  /** Only executions whose booked available time has ended (re-checked in the same statement). */
  onlyIfEnded?: boolean;
  /** Merged into the executions' platform state. */
  state?: Record<string, unknown>;
  /** A note for each phase of the path, where it differs from `note` (null or missing: `note`). */
  notes?: readonly (string | null)[];
  /** Added to the executions' messages (why they moved), in the same change. */
  messages?: readonly MessageItem[];
  components?: readonly ComponentChange[];
  /** An executable's output read for good (final), kept with the move: saveOutputs' rule applies. */
  outputs?: readonly CapturedStream[];
}

/** The CTE that keeps final output with the move, only if the move is made (saveOutputs' rule). */
const keptOutputs = (outputs: readonly CapturedStream[]) => sql`, outputs_kept as (${upsertOutputs(sql`moved`, outputs, true)})`;

type EffectedChange = ComponentChange & { path: LifecyclePhase[]; notes: string[]; order: number[] };

/**
 * A component change with the move's effect on components after it (a component made ready just before
 * a failure is cancelled with the rest), each phase of its path with its note.
 */
function withEffect(c: ComponentChange, effect: { from: readonly LifecyclePhase[]; to: LifecyclePhase } | undefined, note: string | undefined): EffectedChange {
  const path = [...c.path];
  const notes = path.map((_p, i) => c.notes[i] ?? c.notes.at(-1) ?? '');
  const order = path.map((_p, i) => c.order?.[i] ?? i);
  const reached = path.at(-1) ?? c.from;
  if (effect && effect.from.includes(reached) && reached !== effect.to) {
    path.push(effect.to);
    notes.push(note ?? notes.at(-1) ?? '');
    order.push(Number.MAX_SAFE_INTEGER);
  }
  path.forEach((p, i) => {
    if (!canTransitionComponent(i === 0 ? c.from : path[i - 1]!, p)) throw new Error(`illegal component transition ${c.from} -> ${path.join(' -> ')}`);
  });
  return { ...c, path, notes, order };
}

/** The CTEs that apply component changes (compare-and-set on each one's phase) with their history. */
function changedComponents(changes: readonly EffectedChange[]) {
  const rows = storableJson(changes.map((c) => ({ uuid: c.uuid, from: c.from, path: c.path, notes: c.notes, ord: c.order, messages: c.messages ?? [] })));
  return sql`, changes as (
      select * from jsonb_to_recordset(${rows}::jsonb) as x(uuid uuid, "from" text, path text[], notes text[], ord float8[], messages jsonb)
    ), changed as (
      update components c set phase = coalesce(x.path[cardinality(x.path)], c.phase), messages = c.messages || x.messages
      from changes x
      where c.uuid = x.uuid and c.execution_uuid in (select uuid from moved) and (cardinality(x.path) = 0 or c.phase = x."from")
      returning c.uuid, c.execution_uuid
    ), changed_recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select ch.execution_uuid, ch.uuid, p.phase, x.notes[p.n]
      from changed ch join changes x on x.uuid = ch.uuid, unnest(x.path) with ordinality as p(phase, n) order by x.ord[p.n], ch.uuid, p.n
      on conflict do nothing
    )`;
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
