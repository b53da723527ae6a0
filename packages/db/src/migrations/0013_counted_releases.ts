import { sql, type Kysely } from 'kysely';

/**
 * Releases counted in batches. Giving back an accepted execution's booking (COMPLETED, or after a
 * failure or cancel) used to take the capacity buckets it touched in the same transaction. Executions
 * booked over the same minutes all take the same few bucket rows, so their completions waited on
 * each other one commit at a time. Now such a release only marks the booking (`release_counted` false)
 * and the buckets keep counting it until countReleases() takes many at once, in one statement.
 *
 * Until then, the buckets count more use than there is. That errs towards refusing, never towards
 * overbooking. For counting, a booking is live while it is unreleased or its release is not yet
 * counted (eb_counted_live), so the group rule still holds: a group counts at its largest live member.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table bookings add column release_counted boolean not null default true`.execute(db);
  await sql`create index bookings_release_uncounted on bookings (platform) where not release_counted`.execute(db);

  await sql`
    create function eb_counted_live(released_at timestamptz, release_counted boolean) returns boolean
    language sql immutable as $$ select released_at is null or not release_counted $$`.execute(db);
  // The groups' live bookings, found by the triggers at every change: the index follows the new meaning
  // of live (the function is inlined, so its predicate matches).
  await sql`create index bookings_counted_live_group on bookings (grp) where released_at is null or not release_counted`.execute(db);
  await sql`drop index bookings_live_group`.execute(db);

  await sql`
    create or replace function eb_count_booking_change(changed bigint[], old_versions bookings[]) returns void language plpgsql
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
          where eb_counted_live(b.released_at, b.release_counted)
        ), live_before as (
          select b.platform, b.grp, b.during, b.cores, b.memory_gib, b.storage_gib
          from bookings b join groups g on g.platform = b.platform and g.grp = b.grp
          where eb_counted_live(b.released_at, b.release_counted) and b.id <> all(changed)
          union all
          select o.platform, o.grp, o.during, o.cores, o.memory_gib, o.storage_gib
          from unnest(old_versions) o where eb_counted_live(o.released_at, o.release_counted)
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
    create or replace function eb_bookings_inserted() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from (select distinct platform, grp from new_rows) n
                 join bookings b on b.grp = n.grp and b.platform = n.platform
                 where eb_counted_live(b.released_at, b.release_counted) and b.id not in (select id from new_rows)) then
        perform eb_count_booking_change(array(select id from new_rows), '{}');
      else
        perform eb_apply_usage(array(
          select row(platform, bucket, sum(cores), sum(memory), sum(storage))::eb_usage
          from (select platform, grp, t as bucket, max(cores) as cores, max(memory_gib) as memory, max(storage_gib) as storage
                from new_rows, eb_buckets_of(during) t where eb_counted_live(released_at, release_counted) group by platform, grp, t) g
          group by platform, bucket));
      end if;
      return null;
    end $$`.execute(db);

  // A release whose count is put off changes nothing that is counted (yet): no bucket is touched.
  await sql`
    create or replace function eb_bookings_updated() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from old_rows o join new_rows n on n.id = o.id
                 where (o.during, eb_counted_live(o.released_at, o.release_counted), o.grp, o.platform, o.cores, o.memory_gib, o.storage_gib)
                       is distinct from (n.during, eb_counted_live(n.released_at, n.release_counted), n.grp, n.platform, n.cores, n.memory_gib, n.storage_gib)) then
        perform eb_count_booking_change(array(select id from new_rows), array(select o::text::bookings from old_rows o));
      end if;
      return null;
    end $$`.execute(db);
}
