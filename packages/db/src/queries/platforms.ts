import { sql, type Transaction } from 'kysely';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';

export interface PlatformCapacity {
  name: string;
  cores: number;
  memoryGib: number;
  storageGib: number;
}

/**
 * Declares (or re-declares) a platform's capacity. The capacity buckets take the new figures at once;
 * where more is already booked than a lowered capacity, that booking stands and nothing more is taken
 * there until use comes down.
 */
export async function upsertPlatform(db: Db, p: PlatformCapacity): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('platforms')
      .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib, updated_at: new Date(),
        }),
      )
      .execute();
    // Bucket rows are locked in bucket order, as every booking locks them, so this never deadlocks with one.
    await sql`
      with locked as (
        select platform, bucket from capacity_buckets where platform = ${p.name} order by bucket for update
      )
      update capacity_buckets c set
        cores_cap = greatest(${p.cores}::int, c.cores_used),
        memory_cap = greatest(${p.memoryGib}::int, c.memory_used),
        storage_cap = greatest(${p.storageGib}::int, c.storage_used)
      from locked l where c.platform = l.platform and c.bucket = l.bucket`.execute(trx);
  });
}

/** Declares a platform only if it is not declared yet (with no capacity until its worker says). */
export async function ensurePlatform(db: Db, p: PlatformCapacity): Promise<void> {
  await db
    .insertInto('platforms')
    .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function findPlatform(db: Db, name: string): Promise<PlatformCapacity | undefined> {
  const row = await db.selectFrom('platforms').select(['name', 'cores', 'memory_gib', 'storage_gib']).where('name', '=', name).executeTakeFirst();
  return row && { name: row.name, cores: row.cores, memoryGib: row.memory_gib, storageGib: row.storage_gib };
}

/**
 * Planners take turns on this lock only after losing a few races for the same capacity; the database
 * enforces capacity either way (capacity buckets), this only makes sure a planner gets through.
 */
export async function lockPlatformPlanning(trx: Transaction<Database>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(16002, hashtext(${name}))`.execute(trx);
}
