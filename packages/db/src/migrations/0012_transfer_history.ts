import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // How long staging took from each data source: offers estimate preparation time from the recent ones.
  await sql`
    create table transfer_history (
      id bigserial primary key,
      source text not null,
      bytes bigint not null check (bytes >= 0),
      ms integer not null check (ms >= 0),
      at timestamptz not null default now()
    )`.execute(db);
  await sql`create index transfer_history_source_at on transfer_history (source, at desc)`.execute(db);
}
