import { sql, type Kysely } from 'kysely';

/**
 * Capacity counted per platform in one-minute buckets, kept by the database itself.
 *
 * Every change to `bookings` (a new hold, a release, a moved interval) updates the buckets its
 * interval touches in the same statement, through a statement trigger; a CHECK constraint refuses any
 * bucket whose use would go over the platform's capacity. So no code path can overbook, and planners
 * need no lock over the whole calendar: two bookings conflict only where their buckets overlap, and
 * then only for the instant of the update (rows are always locked in bucket order, so never in a cycle).
 *
 * Bookings of one group (the offers of one set: alternatives, at most one ever accepted) count at their
 * largest in each bucket, not at their sum. A bucket counts a booking that touches any part of it, so
 * the count is conservative by less than a bucket at each end of a booking.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table bookings add column grp uuid`.execute(db);
  await sql`update bookings b set grp = e.offerset_uuid from executions e where e.uuid = b.execution_uuid`.execute(db);
  await sql`alter table bookings alter column grp set not null`.execute(db);
  await sql`create index bookings_live_group on bookings (grp) where released_at is null`.execute(db);

  await sql`
    create table capacity_buckets (
      platform text not null references platforms(name),
      bucket timestamptz not null,
      cores_cap integer not null,
      memory_cap integer not null,
      storage_cap integer not null,
      cores_used integer not null,
      memory_used integer not null,
      storage_used integer not null,
      primary key (platform, bucket),
      constraint capacity_buckets_within check (cores_used <= cores_cap and memory_used <= memory_cap and storage_used <= storage_cap)
    )`.execute(db);

  await sql`create function eb_bucket_width() returns interval language sql immutable as $$ select interval '5 minutes' $$`.execute(db);
  // The buckets [t, t + width) that a booked interval touches.
  await sql`
    create function eb_buckets_of(during tstzrange) returns setof timestamptz language sql stable as $$
      select generate_series(date_bin(eb_bucket_width(), lower(during), timestamptz 'epoch'),
                             upper(during) - interval '1 microsecond', eb_bucket_width())
      where not isempty(during)
    $$`.execute(db);

  await sql`create type eb_usage as (platform text, bucket timestamptz, cores integer, memory integer, storage integer)`.execute(db);

  // Adds use to buckets (negative to give it back), writing rows in bucket order. A bucket's cap is the
  // platform's capacity; it stays above it only where more was booked before the capacity was lowered,
  // and then only comes down.
  await sql`
    create function eb_apply_usage(deltas eb_usage[]) returns void language plpgsql as $$
    begin
      insert into capacity_buckets as c (platform, bucket, cores_cap, memory_cap, storage_cap, cores_used, memory_used, storage_used)
      select d.platform, d.bucket, p.cores, p.memory_gib, p.storage_gib, d.cores, d.memory, d.storage
      from unnest(deltas) d join platforms p on p.name = d.platform
      order by d.platform, d.bucket
      on conflict (platform, bucket) do update set
        cores_used = c.cores_used + excluded.cores_used,
        memory_used = c.memory_used + excluded.memory_used,
        storage_used = c.storage_used + excluded.storage_used,
        cores_cap = least(c.cores_cap, greatest(excluded.cores_cap, c.cores_used + excluded.cores_used)),
        memory_cap = least(c.memory_cap, greatest(excluded.memory_cap, c.memory_used + excluded.memory_used)),
        storage_cap = least(c.storage_cap, greatest(excluded.storage_cap, c.storage_used + excluded.storage_used));
    end $$`.execute(db);

  // What a change to some bookings does to their groups' use of each bucket: the groups' use after the
  // change (what the table holds now) less their use before (the unchanged rows and the changed rows'
  // old versions). Planned for each call's arrays: a generic plan does not know how few rows they hold.
  await sql`
    create function eb_count_booking_change(changed bigint[], old_versions bookings[]) returns void language plpgsql
    set plan_cache_mode = force_custom_plan as $$
    begin
      perform eb_apply_usage(array(
        with groups as (
          select platform, grp from bookings where id = any(changed)
          union
          select platform, grp from unnest(old_versions)
        ), live_after as (
          select b.platform, b.grp, b.during, b.cores, b.memory_gib, b.storage_gib
          from bookings b join groups g on g.platform = b.platform and g.grp = b.grp
          where b.released_at is null
        ), live_before as (
          select b.platform, b.grp, b.during, b.cores, b.memory_gib, b.storage_gib
          from bookings b join groups g on g.platform = b.platform and g.grp = b.grp
          where b.released_at is null and b.id <> all(changed)
          union all
          select o.platform, o.grp, o.during, o.cores, o.memory_gib, o.storage_gib
          from unnest(old_versions) o where o.released_at is null
        ), per_group as (
          select 1 as sign, platform, grp, t as bucket, max(cores) as cores, max(memory_gib) as memory, max(storage_gib) as storage
          from live_after, eb_buckets_of(during) t group by platform, grp, t
          union all
          select -1, platform, grp, t, max(cores), max(memory_gib), max(storage_gib)
          from live_before, eb_buckets_of(during) t group by platform, grp, t
        )
        select row(platform, bucket, sum(sign * cores), sum(sign * memory), sum(sign * storage))::eb_usage
        from per_group group by platform, bucket
        having sum(sign * cores) <> 0 or sum(sign * memory) <> 0 or sum(sign * storage) <> 0));
    end $$`.execute(db);

  await sql`
    create function eb_bookings_inserted() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from (select distinct platform, grp from new_rows) n
                 join bookings b on b.grp = n.grp and b.platform = n.platform
                 where b.released_at is null and b.id not in (select id from new_rows)) then
        perform eb_count_booking_change(array(select id from new_rows), '{}');
      else
        -- New groups (an offer set being stored): their use is what the new rows add.
        perform eb_apply_usage(array(
          select row(platform, bucket, sum(cores), sum(memory), sum(storage))::eb_usage
          from (select platform, grp, t as bucket, max(cores) as cores, max(memory_gib) as memory, max(storage_gib) as storage
                from new_rows, eb_buckets_of(during) t where released_at is null group by platform, grp, t) g
          group by platform, bucket));
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create function eb_bookings_updated() returns trigger language plpgsql as $$
    begin
      -- Most updates (confirming a hold) change nothing that is counted.
      if exists (select 1 from old_rows o join new_rows n on n.id = o.id
                 where (o.during, o.released_at, o.grp, o.platform, o.cores, o.memory_gib, o.storage_gib)
                       is distinct from (n.during, n.released_at, n.grp, n.platform, n.cores, n.memory_gib, n.storage_gib)) then
        perform eb_count_booking_change(array(select id from new_rows), array(select o::text::bookings from old_rows o));
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create function eb_bookings_deleted() returns trigger language plpgsql as $$
    begin
      perform eb_count_booking_change(array(select id from old_rows), array(select o::text::bookings from old_rows o));
      return null;
    end $$`.execute(db);
  // Bookings of one group count together (at their largest), so changes to one group are applied one
  // transaction at a time: each takes the group's lock before it changes a row, and its count at the end
  // of the statement then sees what the one before it committed.
  await sql`
    create function eb_bookings_lock_group() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') then perform pg_advisory_xact_lock(16001, hashtext(old.grp::text)); end if;
      if tg_op in ('UPDATE', 'INSERT') then perform pg_advisory_xact_lock(16001, hashtext(new.grp::text)); end if;
      if tg_op = 'DELETE' then return old; end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger bookings_lock_group before insert or update or delete on bookings
    for each row execute function eb_bookings_lock_group()`.execute(db);
  await sql`create trigger bookings_counted_insert after insert on bookings referencing new table as new_rows
    for each statement execute function eb_bookings_inserted()`.execute(db);
  await sql`create trigger bookings_counted_update after update on bookings referencing old table as old_rows new table as new_rows
    for each statement execute function eb_bookings_updated()`.execute(db);
  await sql`create trigger bookings_counted_delete after delete on bookings referencing old table as old_rows
    for each statement execute function eb_bookings_deleted()`.execute(db);

  // What is already booked, counted once (a cap never below what was booked before this migration).
  await sql`
    insert into capacity_buckets (platform, bucket, cores_cap, memory_cap, storage_cap, cores_used, memory_used, storage_used)
    select u.platform, u.bucket, greatest(p.cores, u.cores), greatest(p.memory_gib, u.memory), greatest(p.storage_gib, u.storage),
           u.cores, u.memory, u.storage
    from (
      select platform, bucket, sum(cores)::int as cores, sum(memory)::int as memory, sum(storage)::int as storage
      from (
        select platform, grp, t as bucket, max(cores) as cores, max(memory_gib) as memory, max(storage_gib) as storage
        from bookings, eb_buckets_of(during) t where released_at is null group by platform, grp, t
      ) g group by platform, bucket
    ) u join platforms p on p.name = u.platform`.execute(db);
}
