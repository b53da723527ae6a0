import pg from 'pg';
import { connectDatabase, migrateToLatest } from '@eb/db';

/** Runs once before all test files: a fresh schema in the test database, migrated to the latest version. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through scripts/test.sh');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('drop schema if exists public cascade; create schema public');
  await client.end();
  const handle = connectDatabase(url, { max: 1 });
  await migrateToLatest(handle.db);
  await handle.close();
}
