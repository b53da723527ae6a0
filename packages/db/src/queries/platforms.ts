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
 * Declares (or re-declares) a platform's capacity, as configured, never above what its engine was
 * reported to have (see declareEngineCapacity): a configuration cannot promise cores the host lacks.
 */
export async function upsertPlatform(db: Db, p: PlatformCapacity): Promise<void> {
  await db
    .insertInto('platforms')
    .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        cores: sql<number>`least(excluded.cores, coalesce(platforms.engine_cores, excluded.cores))`,
        memory_gib: sql<number>`least(excluded.memory_gib, coalesce(platforms.engine_memory_gib, excluded.memory_gib))`,
        storage_gib: p.storageGib, updated_at: new Date(),
      }),
    )
    .execute();
}

/** Makes the platform's row exist (with no capacity until a worker declares it); changes nothing else. */
export async function ensurePlatform(db: Db, name: string, storageGib: number): Promise<void> {
  await db.insertInto('platforms').values({ name, cores: 0, memory_gib: 0, storage_gib: storageGib })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
}

/**
 * A worker reports what its engine has (`engine`, overcommit applied): the platform's capacity becomes
 * the configured figure where one is `declared` and lower, else the engine's.
 */
export async function declareEngineCapacity(
  db: Db, name: string, engine: { cores: number; memoryGib: number }, declared: { cores?: number; memoryGib?: number; storageGib: number },
): Promise<PlatformCapacity> {
  const cores = Math.min(declared.cores ?? engine.cores, engine.cores);
  const memoryGib = Math.min(declared.memoryGib ?? engine.memoryGib, engine.memoryGib);
  const row = await db.insertInto('platforms')
    .values({ name, cores, memory_gib: memoryGib, storage_gib: declared.storageGib, engine_cores: engine.cores, engine_memory_gib: engine.memoryGib })
    .onConflict((oc) => oc.column('name').doUpdateSet({
      cores, memory_gib: memoryGib, engine_cores: engine.cores, engine_memory_gib: engine.memoryGib, updated_at: new Date(),
    }))
    .returning(['name', 'cores', 'memory_gib', 'storage_gib'])
    .executeTakeFirstOrThrow();
  return { name: row.name, cores: row.cores, memoryGib: row.memory_gib, storageGib: row.storage_gib };
}

/**
 * Takes the platform's row lock for the rest of the transaction. Every change to what is booked on a
 * platform (new holds, acceptance) goes through this lock, so concurrent replicas plan in turn
 * against what the others committed.
 */
export async function lockPlatform(trx: Transaction<Database>, name: string): Promise<PlatformCapacity | undefined> {
  const row = await trx
    .selectFrom('platforms')
    .select(['name', 'cores', 'memory_gib', 'storage_gib'])
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirst();
  return row && { name: row.name, cores: row.cores, memoryGib: row.memory_gib, storageGib: row.storage_gib };
}
