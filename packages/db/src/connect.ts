import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { preparingPool } from './prepared.js';

// bigint columns (available_ms) fit in a double for any duration we book.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface ConnectOptions {
  max?: number;
  applicationName?: string;
  /**
   * Commit without waiting for the WAL flush (synchronous_commit off): for a process whose every write
   * is redone if lost (the platform workers: each change is a compare-and-set, each platform call
   * idempotent). A database crash can lose its last few milliseconds of progress, which it then makes
   * again; it never makes anything happen twice. Clients' own changes (acceptance) stay synchronous.
   */
  relaxedCommit?: boolean;
  /** How many statement texts to prepare per connection (prepared.ts); EB_DB_PREPARED, 128 by default. */
  prepared?: number;
}

function preparedFromEnv(): number {
  const n = Number(process.env.EB_DB_PREPARED ?? 128);
  return Number.isInteger(n) && n >= 0 ? n : 128;
}

export function connectDatabase(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'execution-broker',
    ...(options.relaxedCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  // A client that loses its connection (database restarted, network cut) must not crash the process:
  // idle ones report through the pool, checked-out ones through their own 'error' event, which has no
  // listener between two queries of a checkout. The query in flight still gets the error; the pool
  // drops the broken client and connects anew when the database is back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool, options.prepared ?? preparedFromEnv()) }) });
  return { db, pool, close: () => db.destroy() };
}
