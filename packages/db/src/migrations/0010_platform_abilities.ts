import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // What the platform's workers can run and stage (kinds, outputs, label syntax, configured data
  // sources): declared by a worker when it starts, read by the offer-set API for every request.
  // Null until a worker has declared it.
  await sql`alter table platforms add column abilities jsonb`.execute(db);
}
