import { sql } from 'kysely';
import type { Db } from '../connect.js';
import { acceptAllOffered, expireOffers } from './executions.js';
import { insertOfferSets, type NewOfferSet } from './offersets.js';

// For the benchmarks only: a full calendar to plan against, and the baseline they are compared with.

export interface SeedBooking {
  start: Date;
  end: Date;
  cores: number;
  memoryGib: number;
}

/** Books these on a platform as accepted executions, each an offer set of its own (so each counts in full). */
export async function seedAcceptedBookings(db: Db, platform: string, bookings: SeedBooking[], ids: () => string): Promise<void> {
  for (let i = 0; i < bookings.length; i += 2000) {
    const expires = new Date(Date.now() + 3_600_000);
    const sets: NewOfferSet[] = bookings.slice(i, i + 2000).map((b) => ({
      uuid: ids(), owner: 'bench', name: null, expires, result: 'YES', request: {}, messages: [],
      offers: [{
        uuid: ids(), name: null, platform, expires, prepareStart: b.start, prepareMs: 0, availableStart: b.start,
        availableMs: b.end.getTime() - b.start.getTime(), releaseStart: b.end, releaseMs: 0,
        cores: b.cores, memoryGib: b.memoryGib, storageGib: 0, interactive: false, components: [],
      }],
    }));
    await insertOfferSets(db, sets);
  }
  await acceptAllOffered(db, platform);
  // Planner statistics for what was just written, as a database in service has them (autovacuum would
  // analyze these tables a while later; a fresh one would meanwhile plan its queries blind).
  await sql`analyze`.execute(db);
}

/** Gives back every hold on a platform at once, so the next run plans against the same calendar. */
export async function releaseAllHolds(db: Db, platform: string): Promise<void> {
  await db.updateTable('executions').set({ expires: sql<Date>`clock_timestamp()` })
    .where('platform', '=', platform).where('phase', '=', 'OFFERED').execute();
  while ((await expireOffers(db, 5000, platform)).length > 0);
}

const BASELINE = 'eb_baseline';

/** Tables shaped like the broker's, with no triggers or foreign keys: what "the same writes" cost alone. */
export async function createBaselineTables(db: Db): Promise<void> {
  await sql`drop schema if exists eb_baseline cascade`.execute(db);
  await sql`create schema eb_baseline`.execute(db);
  for (const t of ['offersets', 'executions', 'bookings']) {
    await sql`create table ${sql.table(`${BASELINE}.${t}`)} (like ${sql.table(`public.${t}`)} including all)`.execute(db);
  }
}

export async function dropBaselineTables(db: Db): Promise<void> {
  await sql`drop schema if exists eb_baseline cascade`.execute(db);
}

/** The baseline's request: one offer set, its offers and their bookings, in one transaction. */
export async function insertBaselineOfferSet(db: Db, set: NewOfferSet): Promise<void> {
  await db.withSchema(BASELINE).transaction().execute(async (trx) => {
    await trx.insertInto('offersets').values({
      uuid: set.uuid, owner: set.owner, name: set.name, expires: set.expires, result: set.result,
      request: JSON.stringify(set.request), messages: JSON.stringify(set.messages),
    }).execute();
    await trx.insertInto('executions').values(set.offers.map((o, position) => ({
      uuid: o.uuid, offerset_uuid: set.uuid, owner: set.owner, name: o.name, phase: 'OFFERED' as const, platform: o.platform,
      expires: o.expires, prepare_start: o.prepareStart, prepare_ms: o.prepareMs, available_start: o.availableStart,
      available_ms: o.availableMs, release_start: o.releaseStart, release_ms: o.releaseMs, cores: o.cores,
      memory_gib: o.memoryGib, storage_gib: o.storageGib, interactive: o.interactive, position,
    }))).execute();
    await trx.insertInto('bookings').values(set.offers.map((o) => ({
      execution_uuid: o.uuid, grp: set.uuid, platform: o.platform, cores: o.cores, memory_gib: o.memoryGib, storage_gib: o.storageGib,
      during: sql<string>`tstzrange(${o.prepareStart}, ${new Date(o.releaseStart.getTime() + o.releaseMs)})`, hold_until: o.expires,
    }))).execute();
  });
}

/** The lifecycle baseline's state: one row per chain, the step it has reached. */
export async function createBaselineChains(db: Db, count: number): Promise<void> {
  await sql`create schema if not exists eb_baseline`.execute(db);
  await sql`drop table if exists eb_baseline.chains`.execute(db);
  await sql`create table eb_baseline.chains (id integer primary key, step integer not null default 0, modified timestamptz not null default now())`.execute(db);
  await sql`insert into eb_baseline.chains (id) select generate_series(0, ${count - 1}::int)`.execute(db);
}

/** One step of a baseline chain: a compare-and-set on the step it is at, like a phase change. */
export async function advanceBaselineChain(db: Db, id: number, step: number): Promise<boolean> {
  const r = await sql`update eb_baseline.chains set step = ${step + 1}, modified = clock_timestamp() where id = ${id} and step = ${step}`.execute(db);
  return Number(r.numAffectedRows) === 1;
}

export async function countBaselineChainsAt(db: Db, step: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from eb_baseline.chains where step >= ${step}`.execute(db);
  return rows[0]!.n;
}
