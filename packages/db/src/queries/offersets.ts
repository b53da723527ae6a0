import { sql, type Transaction } from 'kysely';
import type { ExecutionPhase, MessageItem } from '@eb/schema';
import type { Db } from '../connect.js';
import type { ComponentRole, Database } from '../schema.js';
import { isCapacityConflict, readCalendar, type CalendarSnapshot } from './capacity.js';
import { countReleases } from './bookings.js';
import { lockPlatformPlanning, type PlatformCapacity } from './platforms.js';
import { PHASE_CHANNEL } from './phase.js';
import { expireOffers } from './executions.js';

export interface NewComponent {
  uuid: string;
  role: ComponentRole;
  position: number;
  name: string | null;
  kind: string;
  spec: Record<string, unknown>;
}

export interface NewOffer {
  uuid: string;
  name: string | null;
  platform: string;
  expires: Date;
  prepareStart: Date;
  prepareMs: number;
  availableStart: Date;
  availableMs: number;
  releaseStart: Date;
  releaseMs: number;
  cores: number;
  memoryGib: number;
  storageGib: number;
  interactive: boolean;
  /** How early it may start if capacity frees up before its booked start; null or absent keeps that start. */
  earliestStart?: Date | null;
  /** The output streams the platform gives back for this offer. */
  outputs?: string[];
  /** What the offer is quoted to cost and deliver (the spec's cost and metric items). */
  costs?: unknown[];
  metrics?: unknown[];
  components: NewComponent[];
}

export interface NewOfferSet {
  uuid: string;
  owner: string;
  name: string | null;
  expires: Date;
  result: 'YES' | 'NO';
  request: unknown;
  messages: MessageItem[];
  /** Groups the requester grants read access to. */
  readers?: string[];
  offers: NewOffer[];
}

type Executor = Db | Transaction<Database>;

const iso = (d: Date) => d.toISOString();

/**
 * Stores offer sets with their offers, components, holds and history in one statement: one round trip,
 * atomic without a transaction. The holds' capacity is counted by the database as they are inserted;
 * if any bucket would go over, the whole statement fails (see isCapacityConflict) and nothing is stored.
 *
 * Committed without waiting for the WAL flush: every planner of a platform updates the same buckets
 * near "now", so each would otherwise hold them through its flush and the next would wait for it. A
 * database crash can then lose the last few milliseconds of offer sets; that only gives capacity back
 * (the client asks again), never books it twice. Acceptance stays synchronous.
 */
export async function insertOfferSets(db: Executor, sets: NewOfferSet[]): Promise<void> {
  if (sets.length === 0) return;
  const setRows = sets.map((set) => ({
    uuid: set.uuid, owner: set.owner, name: set.name, expires: iso(set.expires), result: set.result,
    request: set.request ?? null, messages: set.messages, readers: set.readers ?? [],
  }));
  const offerRows = sets.flatMap((set) => set.offers.map((o, position) => ({
    uuid: o.uuid, offerset_uuid: set.uuid, owner: set.owner, name: o.name, platform: o.platform, expires: iso(o.expires),
    prepare_start: iso(o.prepareStart), prepare_ms: o.prepareMs, available_start: iso(o.availableStart), available_ms: o.availableMs,
    release_start: iso(o.releaseStart), release_ms: o.releaseMs, cores: o.cores, memory_gib: o.memoryGib, storage_gib: o.storageGib,
    interactive: o.interactive, position, readers: set.readers ?? [], earliest_start: o.earliestStart ? iso(o.earliestStart) : null,
    outputs: o.outputs ?? [], costs: o.costs ?? [], metrics: o.metrics ?? [],
  })));
  const componentRows = sets.flatMap((set) => set.offers.flatMap((o) => o.components.map((c) => ({
    uuid: c.uuid, execution_uuid: o.uuid, role: c.role, position: c.position, name: c.name, kind: c.kind, spec: c.spec,
  }))));
  await sql`
    with s as (
      insert into offersets (uuid, owner, name, expires, result, request, messages, readers)
      select uuid, owner, name, expires, result, request, messages, readers
      from jsonb_to_recordset(${JSON.stringify(setRows)}::jsonb) as x(uuid uuid, owner text, name text, expires timestamptz,
        result text, request jsonb, messages jsonb, readers text[])
    ), e as (
      insert into executions (uuid, offerset_uuid, owner, name, phase, platform, expires, prepare_start, prepare_ms,
        available_start, available_ms, release_start, release_ms, cores, memory_gib, storage_gib, interactive, position, readers,
        earliest_start, outputs, costs, metrics)
      select uuid, offerset_uuid, owner, name, 'OFFERED', platform, expires, prepare_start, prepare_ms,
        available_start, available_ms, release_start, release_ms, cores, memory_gib, storage_gib, interactive, position, readers,
        earliest_start, outputs, costs, metrics
      from jsonb_to_recordset(${JSON.stringify(offerRows)}::jsonb) as x(uuid uuid, offerset_uuid uuid, owner text, name text,
        platform text, expires timestamptz, prepare_start timestamptz, prepare_ms integer, available_start timestamptz,
        available_ms bigint, release_start timestamptz, release_ms integer, cores integer, memory_gib integer,
        storage_gib integer, interactive boolean, position integer, readers text[], earliest_start timestamptz,
        outputs text[], costs jsonb, metrics jsonb)
      returning uuid, offerset_uuid, platform, prepare_start, release_start, release_ms, cores, memory_gib, storage_gib, expires
    ), c as (
      insert into components (uuid, execution_uuid, role, position, name, kind, phase, spec)
      select uuid, execution_uuid, role, position, name, kind, 'INITIALIZING', spec
      from jsonb_to_recordset(${JSON.stringify(componentRows)}::jsonb) as x(uuid uuid, execution_uuid uuid, role text,
        position integer, name text, kind text, spec jsonb)
    ), b as (
      insert into bookings (execution_uuid, grp, platform, cores, memory_gib, storage_gib, during, hold_until)
      select uuid, offerset_uuid, platform, cores, memory_gib, storage_gib,
        tstzrange(prepare_start, release_start + release_ms * interval '1 millisecond'), expires
      from e
    ), h as (
      insert into phase_history (execution_uuid, component_uuid, phase, note)
      select uuid, null, 'OFFERED', 'offered' from e
    ), relaxed as (
      select set_config('synchronous_commit', 'off', true)
    )
    select pg_notify(${PHASE_CHANNEL}, uuid::text) from e cross join relaxed`.execute(db);
}

export async function insertOfferSet(db: Executor, set: NewOfferSet): Promise<void> {
  await insertOfferSets(db, [set]);
}

export interface PlanningContext {
  capacity: PlatformCapacity;
  /** What is free, bucket by bucket, from now to now + horizonMs. */
  calendar: CalendarSnapshot;
  /** The database clock when the calendar was read: plans start from here. */
  now: Date;
  /** The calendar was read up to now + horizonMs; plans must end by then. */
  horizonMs: number;
}

/** Optimistic attempts before a planner waits its turn on the platform's lock. */
const OPTIMISTIC_ATTEMPTS = 4;
const ATTEMPTS = 12;

/**
 * Plans and stores an offer set without a lock over the platform's calendar: it reads what is free,
 * plans, and stores; the database refuses the holds if another planner took the same capacity
 * meanwhile, and then it reads and plans again. After a few such conflicts it takes the platform's
 * advisory lock for its attempts, so a planner that keeps losing still gets through.
 * The calendar is read for growing horizons: most requests are met near its start.
 * `plan` returns undefined to ask for the next horizon; on the last one it must return a set.
 * It must be quick and must not do I/O.
 */
export async function planAndInsertOfferSet(
  db: Db,
  platform: string,
  horizonsMs: number[],
  plan: (ctx: PlanningContext | undefined, last: boolean) => NewOfferSet | undefined,
  onConflict?: () => void,
): Promise<NewOfferSet> {
  for (let attempt = 1; ; attempt++) {
    const once = async (ex: Executor) => {
      let set: NewOfferSet | undefined;
      for (let i = 0; i < horizonsMs.length && !set; i++) {
        const horizonMs = horizonsMs[i]!;
        let calendar = await readCalendar(ex, platform, horizonMs);
        // Holds that lapsed still count until expired: give them back first, so they can be offered again.
        if (calendar?.lapsedHolds && (await expireOffers(db, 1000, platform)).length) calendar = await readCalendar(ex, platform, horizonMs);
        // So do releases of executions that have ended, until counted.
        if (calendar?.uncountedReleases && (await countReleases(db, platform))) calendar = await readCalendar(ex, platform, horizonMs);
        const last = i === horizonsMs.length - 1 || !calendar;
        set = plan(calendar && { capacity: calendar.capacity, calendar, now: calendar.now, horizonMs }, last);
        if (!calendar && !set) throw new Error('planner returned no offer set for an unknown platform');
      }
      if (!set) throw new Error('planner returned no offer set for its last horizon');
      await insertOfferSet(ex, set);
      return set;
    };
    try {
      if (attempt <= OPTIMISTIC_ATTEMPTS) return await once(db);
      return await db.transaction().execute(async (trx) => {
        await lockPlatformPlanning(trx, platform);
        return once(trx);
      });
    } catch (err) {
      if (!isCapacityConflict(err) || attempt >= ATTEMPTS) throw err;
      onConflict?.();
    }
  }
}

export interface OfferSetRow {
  uuid: string;
  owner: string;
  readers: string[];
  name: string | null;
  created: Date;
  expires: Date;
  result: 'YES' | 'NO';
  messages: MessageItem[];
  executionUuids: string[];
}

export async function findOfferSet(db: Db, uuid: string): Promise<OfferSetRow | undefined> {
  const row = await db
    .selectFrom('offersets')
    .select(['uuid', 'owner', 'readers', 'name', 'created', 'expires', 'result', 'messages'])
    .where('uuid', '=', uuid)
    .executeTakeFirst();
  if (!row) return undefined;
  const executions = await db
    .selectFrom('executions')
    .select('uuid')
    .where('offerset_uuid', '=', uuid)
    .orderBy('position')
    .execute();
  return { ...row, messages: row.messages as MessageItem[], executionUuids: executions.map((e) => e.uuid) };
}
