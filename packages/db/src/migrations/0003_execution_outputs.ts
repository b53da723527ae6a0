import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Which output streams (stdout, stderr) the platform of an offer can give back; the API shows a
  // connector for each.
  await sql`alter table executions add column outputs text[] not null default '{}'`.execute(db);
  // What the executable printed, kept after its container or pod is gone: the last part of each stream
  // as bytes (a program may print NUL bytes or invalid UTF-8, which text and jsonb cannot hold).
  await sql`
    create table execution_outputs (
      execution_uuid uuid not null references executions(uuid) on delete cascade,
      stream text not null check (stream in ('stdout', 'stderr')),
      content bytea not null check (octet_length(content) <= 16777216),
      total_bytes bigint not null check (total_bytes >= 0),
      final boolean not null default false,
      captured_at timestamptz not null default clock_timestamp(),
      primary key (execution_uuid, stream)
    )`.execute(db);
}
