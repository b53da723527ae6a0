import { sql, type Kysely } from 'kysely';

/** Each offer request looks up its owner's open offers (the cap on open offer sets per owner). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index executions_owner_offered on executions (owner) where phase = 'OFFERED'`.execute(db);
}
