import { sql, type Transaction } from 'kysely';
import type { ExecutionPhase, MessageItem } from '@eb/schema';
import type { Db } from '../connect.js';
import type { ComponentRole, Database } from '../schema.js';
import { liveBookings, type LiveBooking } from './bookings.js';
import { lockPlatform, type PlatformCapacity } from './platforms.js';
import { recordPhase } from './phase.js';

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

export async function insertOfferSet(trx: Transaction<Database>, set: NewOfferSet): Promise<void> {
  await trx
    .insertInto('offersets')
    .values({
      uuid: set.uuid, owner: set.owner, name: set.name, expires: set.expires, result: set.result,
      request: JSON.stringify(set.request), messages: JSON.stringify(set.messages), readers: set.readers ?? [],
    })
    .execute();
  if (set.offers.length === 0) return;
  await trx
    .insertInto('executions')
    .values(set.offers.map((o, position) => ({
      uuid: o.uuid, offerset_uuid: set.uuid, owner: set.owner, name: o.name, phase: 'OFFERED' as ExecutionPhase,
      platform: o.platform, expires: o.expires, prepare_start: o.prepareStart, prepare_ms: o.prepareMs,
      available_start: o.availableStart, available_ms: o.availableMs, release_start: o.releaseStart,
      release_ms: o.releaseMs, cores: o.cores, memory_gib: o.memoryGib, storage_gib: o.storageGib,
      interactive: o.interactive, position, readers: set.readers ?? [], outputs: o.outputs ?? [],
      costs: JSON.stringify(o.costs ?? []), metrics: JSON.stringify(o.metrics ?? []),
    })))
    .execute();
  const components = set.offers.flatMap((o) => o.components.map((c) => ({
    uuid: c.uuid, execution_uuid: o.uuid, role: c.role, position: c.position, name: c.name, kind: c.kind,
    phase: 'INITIALIZING' as const, spec: JSON.stringify(c.spec),
  })));
  if (components.length) await trx.insertInto('components').values(components).execute();
  await trx
    .insertInto('bookings')
    .values(set.offers.map((o) => ({
      execution_uuid: o.uuid, platform: o.platform, cores: o.cores, memory_gib: o.memoryGib, storage_gib: o.storageGib,
      during: sql<string>`tstzrange(${o.prepareStart}, ${new Date(o.releaseStart.getTime() + o.releaseMs)})`,
      hold_until: o.expires,
    })))
    .execute();
  await recordPhase(trx, set.offers.map((o) => o.uuid), 'OFFERED', 'offered');
}

export interface PlanningContext {
  capacity: PlatformCapacity;
  bookings: LiveBooking[];
  /** The database clock when the lock was taken: plans start from here. */
  now: Date;
  /** Bookings were loaded up to now + horizonMs; plans must end by then. */
  horizonMs: number;
}

/**
 * Plans and stores an offer set while holding the platform's lock, so what `plan` sees as free is
 * still free when its holds are written. Bookings are loaded for growing horizons: most requests are
 * met near the start of the calendar, and reading only that part keeps planning quick with a full book.
 * `plan` returns undefined to ask for the next horizon; on the last one it must return a set.
 * It must be quick and must not do I/O.
 */
export async function planAndInsertOfferSet(
  db: Db,
  platform: string,
  horizonsMs: number[],
  plan: (ctx: PlanningContext | undefined, last: boolean) => NewOfferSet | undefined,
): Promise<NewOfferSet> {
  return db.transaction().execute(async (trx) => {
    const capacity = await lockPlatform(trx, platform);
    let set: NewOfferSet | undefined;
    if (!capacity) {
      set = plan(undefined, true);
    } else {
      const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(trx);
      const now = rows[0]!.now;
      for (let i = 0; i < horizonsMs.length && !set; i++) {
        const horizonMs = horizonsMs[i]!;
        const bookings = await liveBookings(trx, platform, now, new Date(now.getTime() + horizonMs));
        set = plan({ capacity, bookings, now, horizonMs }, i === horizonsMs.length - 1);
      }
    }
    if (!set) throw new Error('planner returned no offer set for its last horizon');
    await insertOfferSet(trx, set);
    return set;
  });
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
