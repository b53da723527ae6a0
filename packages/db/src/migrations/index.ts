import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_access_and_credentials.js';
import * as m0003 from './0003_capacity_buckets.js';
import * as m0004 from './0004_early_start.js';

// Forward-only and versioned: a new migration is a new file added here, never an edit of an old one.
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_access_and_credentials': m0002,
  '0003_capacity_buckets': m0003,
  '0004_early_start': m0004,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
