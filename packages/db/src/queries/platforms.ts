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

/** How a platform applies container labels (schema 1.0.8): any string (Docker), Kubernetes' syntax, or not at all. */
export type LabelSyntax = 'docker' | 'kubernetes' | 'none';

/** The output an execution gives back through session connectors. */
export type OutputName = 'stdout' | 'stderr' | 'notebook';

/**
 * A data source the platform's workers are configured to stage from (public parts only: never a
 * credential). Requests name sources by endpoint (S3, Rucio) or are matched by host (HTTP); the
 * offer-set API accepts no other endpoint and estimates transfer times from the rates.
 */
export interface DataSourceInfo {
  kind: 'http' | 's3' | 'rucio' | 'ivoa' | 'skao';
  name: string;
  /** The service's base URL (S3 endpoint, Rucio server, SRCNet data-management API, DataLink service). */
  endpoint?: string;
  /** Further forms a request may give for this source (S3 URL templates such as https://{bucket}.s3.example.org/{object}). */
  templates?: string[];
  /** Hosts whose downloads count as this source (HTTP). */
  hosts?: string[];
  /** Configured transfer rate, until the history of downloads says otherwise. */
  bytesPerSecond?: number;
  /** Time before the first byte (authentication, replica lookup, staging requests). */
  setupMs?: number;
}

/** What a platform can do, as its workers declare it when they start. */
export interface PlatformAbilities {
  executableKinds: string[];
  dataKinds: string[];
  /** Outputs the platform gives back: stdout and stderr apart, one log as stdout, an executed notebook. */
  outputs: OutputName[];
  labels: LabelSyntax;
  sources: DataSourceInfo[];
}

/**
 * Records what the platform can do. Only the abilities are changed on an existing row: capacity is
 * declared elsewhere, and this row is created with the given capacity only when nothing declared it yet.
 */
export async function declarePlatformAbilities(db: Db, p: PlatformCapacity, abilities: PlatformAbilities): Promise<void> {
  const json = JSON.stringify(abilities);
  await db
    .insertInto('platforms')
    .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib, abilities: json })
    .onConflict((oc) => oc.column('name').doUpdateSet({ abilities: json }))
    .execute();
}

/** Every platform's declared abilities, by name (platforms no worker has declared are left out). */
export async function platformAbilities(db: Db): Promise<Map<string, PlatformAbilities>> {
  const rows = await db.selectFrom('platforms').select(['name', 'abilities']).where('abilities', 'is not', null).execute();
  return new Map(rows.map((r) => [r.name, r.abilities as PlatformAbilities]));
}
