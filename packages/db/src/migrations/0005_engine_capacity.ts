import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // What the platform's engine itself has (times any overcommit factor), reported by its workers: the
  // declared capacity is never allowed above it. Null where no worker reports one (Kubernetes, Skaha).
  await sql`alter table platforms add column engine_cores integer, add column engine_memory_gib integer`.execute(db);
}
