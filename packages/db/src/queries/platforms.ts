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
 * The capacity buckets take a platform's (re-)declared figures at once; where more is already booked
 * than a lowered capacity, that booking stands and nothing more is taken there until use comes down.
 * Bucket rows are locked in bucket order, as every booking locks them, so this never deadlocks with one.
 */
async function recapBuckets(trx: Transaction<Database>, p: PlatformCapacity): Promise<void> {
  await sql`
    with locked as (
      select platform, bucket from capacity_buckets where platform = ${p.name} order by bucket for update
    )
    update capacity_buckets c set
      cores_cap = greatest(${p.cores}::int, c.cores_used),
      memory_cap = greatest(${p.memoryGib}::int, c.memory_used),
      storage_cap = greatest(${p.storageGib}::int, c.storage_used)
    from locked l where c.platform = l.platform and c.bucket = l.bucket`.execute(trx);
}

const capacityOf = (row: { name: string; cores: number; memory_gib: number; storage_gib: number }): PlatformCapacity =>
  ({ name: row.name, cores: row.cores, memoryGib: row.memory_gib, storageGib: row.storage_gib });

/**
 * Declares (or re-declares) a platform's capacity, as configured, never above what its engine was
 * reported to have (see declareEngineCapacity): a configuration cannot promise cores the host lacks.
 */
export async function upsertPlatform(db: Db, p: PlatformCapacity): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('platforms')
      .values({ name: p.name, cores: p.cores, memory_gib: p.memoryGib, storage_gib: p.storageGib })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          cores: sql<number>`least(excluded.cores, coalesce(platforms.engine_cores, excluded.cores))`,
          memory_gib: sql<number>`least(excluded.memory_gib, coalesce(platforms.engine_memory_gib, excluded.memory_gib))`,
          storage_gib: p.storageGib, updated_at: new Date(),
        }),
      )
      .returning(['name', 'cores', 'memory_gib', 'storage_gib'])
      .executeTakeFirstOrThrow();
    await recapBuckets(trx, capacityOf(row));
  });
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
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('platforms')
      .values({ name, cores, memory_gib: memoryGib, storage_gib: declared.storageGib, engine_cores: engine.cores, engine_memory_gib: engine.memoryGib })
      .onConflict((oc) => oc.column('name').doUpdateSet({
        cores, memory_gib: memoryGib, engine_cores: engine.cores, engine_memory_gib: engine.memoryGib, updated_at: new Date(),
      }))
      .returning(['name', 'cores', 'memory_gib', 'storage_gib'])
      .executeTakeFirstOrThrow();
    await recapBuckets(trx, capacityOf(row));
    return capacityOf(row);
  });
}

export async function findPlatform(db: Db | Transaction<Database>, name: string): Promise<PlatformCapacity | undefined> {
  const row = await db.selectFrom('platforms').select(['name', 'cores', 'memory_gib', 'storage_gib']).where('name', '=', name).executeTakeFirst();
  return row && capacityOf(row);
}

/**
 * Planners take turns on this lock only after losing a few races for the same capacity; the database
 * enforces capacity either way (capacity buckets), this only makes sure a planner gets through.
 */
export async function lockPlatformPlanning(trx: Transaction<Database>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(16002, hashtext(${name}))`.execute(trx);
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
  /** Whether it makes storage and mounts it (Skaha does neither: sessions use CANFAR's own storage). */
  mounts: boolean;
  /** The CPU architectures its nodes run; absent: any (simulated). */
  architectures?: string[];
  /** Whether it runs a JupyterNotebook headless (batch), keeping the executed notebook. */
  headlessNotebooks?: boolean;
}

/** A declared platform: what it can do, and all it has (booked or not). */
export type DeclaredPlatform = PlatformAbilities & { capacity: Omit<PlatformCapacity, 'name'> };

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

/** Whether a worker of the platform has declared what it can do. */
export async function isPlatformDeclared(db: Db, name: string): Promise<boolean> {
  const row = await db.selectFrom('platforms').select('name').where('name', '=', name).where('abilities', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

/** Every platform's declared abilities and capacity, by name (platforms no worker has declared are left out). */
export async function platformAbilities(db: Db): Promise<Map<string, DeclaredPlatform>> {
  const rows = await db.selectFrom('platforms').select(['name', 'abilities', 'cores', 'memory_gib', 'storage_gib'])
    .where('abilities', 'is not', null).execute();
  return new Map(rows.map((r) => {
    const { name: _name, ...capacity } = capacityOf(r);
    // Rows declared before mounts were declared: every platform then mounted but Skaha, which declared no data.
    const declared: PlatformAbilities = Object.assign({ mounts: true }, r.abilities as PlatformAbilities);
    return [r.name, { ...declared, capacity }];
  }));
}
