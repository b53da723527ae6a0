import { sql, type Selectable, type Transaction } from 'kysely';
import { ActivePhases, canTransitionComponent, type ExecutionPhase, type LifecyclePhase, type MessageItem } from '@eb/schema';
import type { Db } from '../connect.js';
import type { ComponentsTable, Database, ExecutionsTable, PhaseHistoryTable } from '../schema.js';
import { confirmBooking, releaseBookings } from './bookings.js';
import { PHASE_CHANNEL, applyPhase, applyPhaseRows, recordPhase, type MoveOptions } from './phase.js';
import { storableJson } from './json.js';


export type ExecutionRow = Selectable<ExecutionsTable>;
export type ComponentRow = Selectable<ComponentsTable>;
export type PhaseHistoryRow = Selectable<PhaseHistoryTable>;

export interface ExecutionRecord {
  execution: ExecutionRow;
  components: ComponentRow[];
  history: PhaseHistoryRow[];
}

export async function findExecutionRow(db: Db, uuid: string): Promise<ExecutionRow | undefined> {
  return db.selectFrom('executions').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

/** Executions with their components and phase history, in the order asked, as of one instant. */
export async function findExecutions(db: Db, uuids: string[]): Promise<ExecutionRecord[]> {
  if (uuids.length === 0) return [];
  // One snapshot for the three reads, so the phase, the components and the history always agree.
  const [executions, components, history] = await db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => [
    await trx.selectFrom('executions').selectAll().where('uuid', 'in', uuids).execute(),
    await trx.selectFrom('components').selectAll().where('execution_uuid', 'in', uuids).orderBy('position').execute(),
    await trx.selectFrom('phase_history').selectAll().where('execution_uuid', 'in', uuids).orderBy('id').execute(),
  ] as const);
  const byUuid = new Map(executions.map((e) => [e.uuid, e]));
  return uuids.flatMap((uuid) => {
    const execution = byUuid.get(uuid);
    if (!execution) return [];
    return [{
      execution,
      components: components.filter((c) => c.execution_uuid === uuid),
      history: history.filter((h) => h.execution_uuid === uuid),
    }];
  });
}

export async function findExecution(db: Db, uuid: string): Promise<ExecutionRecord | undefined> {
  return (await findExecutions(db, [uuid]))[0];
}

/** What a worker's pass needs: the execution and its components (one snapshot), without the history. */
export async function findExecutionForStep(db: Db, uuid: string): Promise<ExecutionRecord | undefined> {
  const { rows } = await sql<ExecutionRow & { step_components: ComponentRow[] | null }>`
    select e.*, (select json_agg(c order by c.position) from components c where c.execution_uuid = e.uuid) as step_components
    from executions e where e.uuid = ${uuid}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { step_components: components, ...execution } = row;
  // One round trip; components have no timestamps, so their JSON reads back as their rows.
  return { execution, components: components ?? [], history: [] };
}

export type AcceptOutcome =
  | { outcome: 'accepted'; platform: string; rejectedSiblings: string[] }
  | { outcome: 'not-found' }
  | { outcome: 'expired' }
  | { outcome: 'over-quota'; detail: string }
  | { outcome: 'conflict'; phase: ExecutionPhase };

/** Most cores and memory one owner may hold in accepted, unfinished executions. */
export interface OwnerQuota {
  cores?: number;
  memoryGib?: number;
}

/**
 * Accepts an offer: its hold becomes a booking and the other offers of its set are rejected, their
 * holds released. No platform lock: the set's holds already counted its largest offer in every bucket,
 * so keeping one of them never takes more. Expiry is re-checked against the clock, so an offer cannot
 * be accepted once a planner may have counted its hold as lapsed. With a quota, the owner's acceptances
 * take turns on the owner's lock, so two offers within the quota cannot both be accepted past it.
 */
export async function acceptExecution(db: Db, uuid: string, quota: OwnerQuota = {}): Promise<AcceptOutcome> {
  if (quota.cores === undefined && quota.memoryGib === undefined) {
    const quick = await acceptAtOnce(db, uuid);
    if (quick) return quick;
  }
  return db.transaction().execute(async (trx): Promise<AcceptOutcome> => {
    const row = await trx.selectFrom('executions').select(['platform', 'offerset_uuid', 'owner', 'cores', 'memory_gib', 'phase']).where('uuid', '=', uuid).executeTakeFirst();
    if (!row) return { outcome: 'not-found' };
    if (row.phase === 'OFFERED' && (quota.cores !== undefined || quota.memoryGib !== undefined)) {
      await sql`select pg_advisory_xact_lock(16003, hashtext(${row.owner}))`.execute(trx);
      // Offers were within the quota when made; two accepted together might not be. Checked again here.
      const used = await ownerUsage(trx, row.owner);
      if (quota.cores !== undefined && used.cores + row.cores > quota.cores) {
        return { outcome: 'over-quota', detail: `${row.owner} holds ${used.cores} of ${quota.cores} cores; this offer's ${row.cores} would go over the user-quota policy` };
      }
      if (quota.memoryGib !== undefined && used.memoryGib + row.memory_gib > quota.memoryGib) {
        return { outcome: 'over-quota', detail: `${row.owner} holds ${used.memoryGib} of ${quota.memoryGib} GiB; this offer's ${row.memory_gib} GiB would go over the user-quota policy` };
      }
    }
    const accepted = await trx
      .updateTable('executions')
      .set({ phase: 'ACCEPTED', modified: sql<Date>`clock_timestamp()` })
      .where('uuid', '=', uuid)
      .where('phase', '=', 'OFFERED')
      .where('expires', '>', sql<Date>`clock_timestamp()`)
      .returning('uuid')
      .executeTakeFirst();
    if (!accepted) {
      const current = await trx.selectFrom('executions').select(['phase', 'expires']).where('uuid', '=', uuid).executeTakeFirstOrThrow();
      if (current.phase === 'OFFERED' || current.phase === 'EXPIRED') {
        await applyPhase(trx, [uuid], 'OFFERED', 'EXPIRED', 'offer expired before it was accepted');
        return { outcome: 'expired' };
      }
      return { outcome: 'conflict', phase: current.phase };
    }
    // Siblings first: their holds go, and the set then counts only this offer (never more than before).
    const siblings = await trx
      .selectFrom('executions')
      .select('uuid')
      .where('offerset_uuid', '=', row.offerset_uuid)
      .where('uuid', '<>', uuid)
      .where('phase', '=', 'OFFERED')
      .execute();
    const rejected = await applyPhase(trx, siblings.map((s) => s.uuid), 'OFFERED', 'REJECTED', 'another offer of the set was accepted');
    await recordPhase(trx, [uuid], 'ACCEPTED', 'accepted by the client');
    await confirmBooking(trx, uuid);
    return { outcome: 'accepted', platform: row.platform, rejectedSiblings: rejected };
  });
}

/**
 * Acceptance with nothing to check but the offer's phase and expiry, in one statement: the offer
 * becomes ACCEPTED and its hold a booking, its siblings REJECTED and their holds released, with history
 * and notifications. Undefined when the offer could not be accepted (the caller then finds out why).
 */
async function acceptAtOnce(db: Db, uuid: string): Promise<AcceptOutcome | undefined> {
  const note = 'another offer of the set was accepted';
  const { rows } = await sql<{ uuid: string; platform: string; accepted: boolean }>`
    with accepted as (
      update executions set phase = 'ACCEPTED', modified = clock_timestamp()
      where uuid = ${uuid} and phase = 'OFFERED' and expires > clock_timestamp()
      returning uuid, offerset_uuid, platform
    ), siblings as (
      update executions set phase = 'REJECTED', modified = clock_timestamp()
      where offerset_uuid in (select offerset_uuid from accepted) and uuid <> ${uuid} and phase = 'OFFERED'
      returning uuid, platform
    ), recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select uuid, null::uuid, 'ACCEPTED', 'accepted by the client' from accepted
      union all
      select uuid, null, 'REJECTED', ${note} from siblings
    ), confirmed as (
      update bookings set hold_until = null where execution_uuid in (select uuid from accepted)
    ), released as (
      update bookings set released_at = clock_timestamp()
      where execution_uuid in (select uuid from siblings) and released_at is null
    )
    select uuid, platform, true as accepted, pg_notify(${PHASE_CHANNEL}, uuid::text) from accepted
    union all
    select uuid, platform, false, pg_notify(${PHASE_CHANNEL}, uuid::text) from siblings`.execute(db);
  const me = rows.find((r) => r.accepted);
  return me && { outcome: 'accepted', platform: me.platform, rejectedSiblings: rows.filter((r) => !r.accepted).map((r) => r.uuid) };
}

/** A guarded phase change in its own transaction; false when the execution was not in `from`. */
export async function transitionExecution(
  db: Db,
  uuid: string,
  from: ExecutionPhase,
  to: ExecutionPhase,
  note?: string,
  /** Only if its booked available time has ended, as stored now (an extension may have moved it). */
  onlyIfEnded = false,
): Promise<boolean> {
  return (await applyPhase(db, [uuid], from, to, note, onlyIfEnded)).length === 1;
}

/**
 * transitionExecution, answering the execution's new `modified` when it moved; `to` may be a path of
 * phases passed through in one change, and `state` is kept in its platform state with the move.
 */
export async function transitionExecutionAt(
  db: Db, uuid: string, from: ExecutionPhase, to: ExecutionPhase | readonly ExecutionPhase[], note?: string,
  opts: MoveOptions = {},
): Promise<Date | undefined> {
  return (await applyPhaseRows(db, [uuid], from, to, note, opts))[0]?.modified;
}

/**
 * Offers whose expiry has passed become EXPIRED and give back their holds (on one platform, or all).
 * One read when nothing is due; the move is a compare-and-set, so expirers running at once agree.
 */
export async function expireOffers(db: Db, limit = 500, platform?: string): Promise<string[]> {
  let due = db
    .selectFrom('executions')
    .select('uuid')
    .where('phase', '=', 'OFFERED')
    .where('expires', '<=', sql<Date>`clock_timestamp()`);
  if (platform !== undefined) due = due.where('platform', '=', platform);
  const rows = await due.orderBy('expires').limit(limit).execute();
  if (rows.length === 0) return [];
  return applyPhase(db, rows.map((d) => d.uuid), 'OFFERED', 'EXPIRED', 'offer expired');
}

/** Gives back an accepted execution's booking once the platform released its part; counted later (countReleases). */
export async function releaseExecutionBookings(db: Db, uuid: string): Promise<void> {
  await releaseBookings(db, [uuid], { countLater: true });
}

export interface ActiveExecution {
  uuid: string;
  phase: ExecutionPhase;
  prepare_start: Date;
}

/** A platform's executions its workers still owe a step to (active, or ended but not yet released); optionally only `among` these. */
export async function listOwedExecutions(db: Db, platform: string, limit = 1000, among?: readonly string[]): Promise<ActiveExecution[]> {
  if (among?.length === 0) return [];
  let q = db
    .selectFrom('executions')
    .select(['uuid', 'phase', 'prepare_start'])
    .where('platform', '=', platform);
  if (among) q = q.where('uuid', '=', sql<string>`any(${[...among]}::uuid[])`);
  return q
    .where((eb) => eb.or([
      eb('phase', 'in', [...ActivePhases]),
      eb.and([
        eb('phase', 'in', ['CANCELLED', 'FAILED']),
        eb.exists(eb.selectFrom('bookings').select('id').whereRef('bookings.execution_uuid', '=', 'executions.uuid').where('released_at', 'is', null)),
      ]),
    ]))
    .orderBy('modified')
    .limit(limit)
    .execute();
}

/** A component's platform state (replacing what was kept for it) and messages for it, in one statement. */
export async function saveComponent(db: Db, executionUuid: string, componentUuid: string, state?: Record<string, unknown>, messages?: MessageItem[]): Promise<void> {
  const patch = state ? storableJson({ [componentUuid]: state }) : null;
  const added = messages?.length ? storableJson(messages) : null;
  if (!patch && !added) return;
  await sql`
    with kept as (
      update executions set platform_state = platform_state || ${patch}::jsonb where ${patch}::jsonb is not null and uuid = ${executionUuid}
    )
    update components set messages = messages || ${added}::jsonb where ${added}::jsonb is not null and uuid = ${componentUuid}`.execute(db);
}

export async function setPlatformState(db: Db, uuid: string, state: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('executions')
    .set({ platform_state: sql`platform_state || ${storableJson(state)}::jsonb` })
    .where('uuid', '=', uuid)
    .execute();
}

/** What an owner's accepted, unfinished executions hold now (for quotas). */
export async function ownerUsage(db: Db | Transaction<Database>, owner: string): Promise<{ cores: number; memoryGib: number }> {
  const row = await db
    .selectFrom('executions')
    .select([sql<number>`coalesce(sum(cores), 0)::int`.as('cores'), sql<number>`coalesce(sum(memory_gib), 0)::int`.as('memoryGib')])
    .where('owner', '=', owner)
    .where('phase', 'in', [...ActivePhases])
    .executeTakeFirstOrThrow();
  return row;
}

/** Accepts every live offer on a platform at once (seeding benchmarks with a full calendar). */
export async function acceptAllOffered(db: Db, platform: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.updateTable('executions').set({ phase: 'ACCEPTED' })
      .where('platform', '=', platform).where('phase', '=', 'OFFERED').returning('uuid').execute();
    await trx.updateTable('bookings').set({ hold_until: null }).where('platform', '=', platform).execute();
    return rows.length;
  });
}

/**
 * A guarded component phase change as one statement (so one round trip, and atomic): compare-and-set,
 * history row and notification together. False when the component was not in any of `from`.
 */
export async function moveComponent(
  db: Db,
  componentUuid: string,
  from: readonly LifecyclePhase[],
  to: LifecyclePhase | readonly LifecyclePhase[],
  note?: string,
  opts: ComponentMoveOptions = {},
): Promise<boolean> {
  // A path (e.g. PREPARING then AVAILABLE, for a component ready as soon as it was made) is recorded
  // phase by phase, in one statement.
  const path = typeof to === 'string' ? [to] : [...to];
  const allowed = from.filter((f) => canTransitionComponent(f, path[0]!));
  const legal = path.every((p, i) => i === 0 || canTransitionComponent(path[i - 1]!, p));
  if (allowed.length === 0 || !legal) throw new Error(`illegal component transition ${from.join('|')} -> ${path.join(' -> ')}`);
  const state = opts.state && Object.keys(opts.state).length ? storableJson({ [componentUuid]: opts.state }) : null;
  const messages = opts.messages?.length ? storableJson(opts.messages) : null;
  const { rows } = await sql<{ execution_uuid: string }>`
    with kept as (
      update executions set platform_state = platform_state || ${state}::jsonb
      where ${state}::jsonb is not null and uuid = (select execution_uuid from components where uuid = ${componentUuid})
    ), moved as (
      update components set phase = ${path.at(-1)!}, messages = messages || coalesce(${messages}::jsonb, '[]'::jsonb)
      where uuid = ${componentUuid} and phase = any(${allowed}::text[])
        and (${opts.whilePhase ?? null}::text is null
             or exists (select 1 from executions e where e.uuid = components.execution_uuid and e.phase = ${opts.whilePhase ?? null}))
      returning execution_uuid
    ), recorded as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select m.execution_uuid, ${componentUuid}, p.phase, ${note ?? null}
      from moved m, unnest(${path}::text[]) with ordinality as p(phase, n) order by p.n
    )
    select execution_uuid from moved`.execute(db);
  return rows.length === 1;
}

/** What a component move also does in its one statement. */
export interface ComponentMoveOptions {
  /** The component's platform state, saved whether or not it moves (merged into what is stored). */
  state?: Record<string, unknown>;
  /** Messages to add to the component, with the move. */
  messages?: MessageItem[];
  /** Move only while the execution is still in this phase (a cancel may have come meanwhile). */
  whilePhase?: ExecutionPhase;
}

export async function appendComponentMessages(db: Db, componentUuid: string, messages: MessageItem[]): Promise<void> {
  if (messages.length === 0) return;
  await db
    .updateTable('components')
    .set({ messages: sql`messages || ${storableJson(messages)}::jsonb` })
    .where('uuid', '=', componentUuid)
    .execute();
}

/** How many of a platform's executions are in each phase (for metrics). */
export async function countExecutionsByPhase(db: Db, platform: string): Promise<{ phase: string; count: number }[]> {
  return db.selectFrom('executions')
    .select(['phase', sql<number>`count(*)::int`.as('count')])
    .where('platform', '=', platform)
    .groupBy('phase')
    .execute();
}

/**
 * Keeps an owner to `keep` offer sets with live offers: the older ones expire now and give back their
 * holds, so nobody can hold the platform's capacity by asking for offers and never answering.
 * Returns the offers expired. One read when nothing is over (the move is a compare-and-set).
 */
export async function expireOldestOpenOffers(db: Db, owner: string, keep: number): Promise<string[]> {
  const { rows } = await sql<{ uuid: string }>`
    with open as (
      select offerset_uuid, min(created) as created from executions
      where owner = ${owner} and phase = 'OFFERED' and expires > clock_timestamp()
      group by offerset_uuid order by created desc offset ${Math.max(0, keep)}
    )
    select e.uuid from executions e join open o on o.offerset_uuid = e.offerset_uuid where e.phase = 'OFFERED'`.execute(db);
  if (rows.length === 0) return [];
  return applyPhase(db, rows.map((r) => r.uuid), 'OFFERED', 'EXPIRED', 'released: the owner asked for newer offers beyond the number that may be held at once');
}
