import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Groups granted read access by the requester, copied to each offer so checks need one row.
  await sql`alter table offersets add column readers text[] not null default '{}'`.execute(db);
  await sql`alter table executions add column readers text[] not null default '{}'`.execute(db);
  await sql`create index executions_owner_active on executions (owner) where phase in ('ACCEPTED','WAITING','PREPARING','AVAILABLE','RUNNING','RELEASING')`.execute(db);
  // Tokens kept for work done on the owner's behalf, encrypted by the services (AES-256-GCM), never in clear.
  await sql`
    create table credentials (
      execution_uuid uuid primary key references executions(uuid) on delete cascade,
      subject text not null,
      access_token bytea not null,
      refresh_token bytea,
      expires_at timestamptz,
      refreshed_at timestamptz,
      refresh_failures integer not null default 0
    )`.execute(db);
  await sql`create index credentials_expiry on credentials (expires_at)`.execute(db);
}
