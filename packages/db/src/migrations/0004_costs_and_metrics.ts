import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // What each offer was quoted to cost and deliver, kept with it (the compute's own quote is in its spec).
  await sql`alter table executions add column costs jsonb not null default '[]'`.execute(db);
  await sql`alter table executions add column metrics jsonb not null default '[]'`.execute(db);
}
