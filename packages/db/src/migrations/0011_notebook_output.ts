import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A notebook's executed copy is an output too (served by its own connector), kept whole.
  await sql`alter table execution_outputs drop constraint execution_outputs_stream_check`.execute(db);
  await sql`alter table execution_outputs add constraint execution_outputs_stream_check check (stream in ('stdout', 'stderr', 'notebook'))`.execute(db);
}
