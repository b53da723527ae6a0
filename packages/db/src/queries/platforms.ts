import type { Transaction } from 'kysely';
import type { Db } from '../connect.js';
import type { Database } from '../schema.js';

export interface PlatformCapacity {
  name: string;
  cores: number;
  memoryGib: number;
  storageGib: number;
}

/** Declares (or re-declares) a platform's capacity, as configured. */
export async function upsertPlatform(db: Db, p: PlatformCapacity): Promise<void> {
  await db
    .insertInto('platforms')
    .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib, updated_at: new Date(),
      }),
    )
    .execute();
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
