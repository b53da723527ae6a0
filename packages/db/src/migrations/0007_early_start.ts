import { sql, type Kysely } from 'kysely';

/**
 * How early an accepted execution may start when capacity frees up before its booked start: null keeps
 * the booked start (interactive sessions, unless their owner allows otherwise); otherwise the earliest
 * instant its request allows (the start of its requested window, or the time it was asked for).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table executions add column earliest_start timestamptz`.execute(db);
  await sql`create index executions_waiting_start on executions (platform, prepare_start)
    where phase in ('ACCEPTED', 'WAITING') and earliest_start is not null`.execute(db);
}
