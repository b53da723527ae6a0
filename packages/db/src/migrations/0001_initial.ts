import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists btree_gist`.execute(db);
  await sql`
    create table platforms (
      name text primary key,
      cores integer not null check (cores >= 0),
      memory_gib integer not null check (memory_gib >= 0),
      storage_gib integer not null check (storage_gib >= 0),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table offersets (
      uuid uuid primary key,
      owner text not null,
      name text,
      created timestamptz not null default now(),
      expires timestamptz not null,
      result text not null check (result in ('YES', 'NO')),
      request jsonb not null,
      messages jsonb not null default '[]'
    )`.execute(db);
  await sql`
    create table executions (
      uuid uuid primary key,
      offerset_uuid uuid not null references offersets(uuid),
      owner text not null,
      name text,
      phase text not null check (phase in ('INITIAL','OFFERED','ACCEPTED','REJECTED','EXPIRED','WAITING',
        'PREPARING','AVAILABLE','RUNNING','RELEASING','COMPLETED','FAILED','CANCELLED')),
      platform text not null references platforms(name),
      created timestamptz not null default now(),
      modified timestamptz not null default now(),
      expires timestamptz not null,
      prepare_start timestamptz not null,
      prepare_ms integer not null,
      available_start timestamptz not null,
      available_ms bigint not null,
      release_start timestamptz not null,
      release_ms integer not null,
      cores integer not null,
      memory_gib integer not null,
      storage_gib integer not null,
      interactive boolean not null default false,
      platform_state jsonb not null default '{}',
      messages jsonb not null default '[]',
      position integer not null default 0
    )`.execute(db);
  await sql`create index executions_offerset on executions (offerset_uuid)`.execute(db);
  await sql`create index executions_offered_expiry on executions (expires) where phase = 'OFFERED'`.execute(db);
  await sql`create index executions_active on executions (phase)
    where phase in ('ACCEPTED','WAITING','PREPARING','AVAILABLE','RUNNING','RELEASING')`.execute(db);
  await sql`
    create table components (
      uuid uuid primary key,
      execution_uuid uuid not null references executions(uuid) on delete cascade,
      role text not null,
      position integer not null,
      name text,
      kind text not null,
      phase text not null,
      spec jsonb not null,
      messages jsonb not null default '[]'
    )`.execute(db);
  await sql`create index components_execution on components (execution_uuid)`.execute(db);
  await sql`
    create table phase_history (
      id bigserial primary key,
      execution_uuid uuid not null references executions(uuid) on delete cascade,
      component_uuid uuid references components(uuid) on delete cascade,
      phase text not null,
      at timestamptz not null default clock_timestamp(),
      note text
    )`.execute(db);
  // Each execution passes through a phase at most once: a duplicate step cannot be recorded twice.
  await sql`create unique index phase_history_once on phase_history (execution_uuid, phase)
    where component_uuid is null`.execute(db);
  await sql`create unique index phase_history_component_once on phase_history (component_uuid, phase)
    where component_uuid is not null`.execute(db);
  await sql`
    create table bookings (
      id bigserial primary key,
      execution_uuid uuid not null unique references executions(uuid) on delete cascade,
      platform text not null references platforms(name),
      cores integer not null,
      memory_gib integer not null,
      storage_gib integer not null,
      during tstzrange not null,
      hold_until timestamptz,
      released_at timestamptz
    )`.execute(db);
  await sql`create index bookings_live on bookings using gist (platform, during) where released_at is null`.execute(db);
}
