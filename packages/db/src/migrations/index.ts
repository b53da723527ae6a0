import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_access_and_credentials.js';
import * as m0003 from './0003_execution_outputs.js';
import * as m0004 from './0004_costs_and_metrics.js';
import * as m0005 from './0005_engine_capacity.js';
import * as m0006 from './0006_capacity_buckets.js';
import * as m0007 from './0007_early_start.js';
import * as m0008 from './0008_owner_open_offers.js';
import * as m0010 from './0010_platform_abilities.js';
import * as m0011 from './0011_notebook_output.js';
import * as m0012 from './0012_transfer_history.js';
import * as m0013 from './0013_counted_releases.js';

// Forward-only and versioned: a new migration is a new file added here, never an edit of an old one.
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_access_and_credentials': m0002,
  '0003_execution_outputs': m0003,
  '0004_costs_and_metrics': m0004,
  '0005_engine_capacity': m0005,
  '0006_capacity_buckets': m0006,
  '0007_early_start': m0007,
  '0008_owner_open_offers': m0008,
  '0010_platform_abilities': m0010,
  '0011_notebook_output': m0011,
  '0012_transfer_history': m0012,
  '0013_counted_releases': m0013,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
