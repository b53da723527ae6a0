import { Migrator } from 'kysely';
import type { Db } from './connect.js';
import { migrationProvider } from './migrations/index.js';

/**
 * Brings the schema up to date. Kysely's PostgreSQL adapter holds an advisory lock while it migrates,
 * so replicas starting together run each migration once.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Branches developed side by side add migrations with different numbers: a database that ran a later
  // number first still takes an earlier one merged after it (each is independent of the others).
  const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
