import { sql } from 'kysely';
import { ActivePhases } from '@eb/schema';
import type { Db } from '../connect.js';

export interface StoredCredential {
  executionUuid: string;
  subject: string;
  accessToken: Buffer;
  refreshToken: Buffer | null;
  expiresAt: Date | null;
  refreshFailures: number;
}

/** Keeps (or replaces) the sealed tokens an execution's background work uses on its owner's behalf. */
export async function storeCredential(db: Db, c: Omit<StoredCredential, 'refreshFailures'>): Promise<void> {
  await db.insertInto('credentials')
    .values({ execution_uuid: c.executionUuid, subject: c.subject, access_token: c.accessToken, refresh_token: c.refreshToken, expires_at: c.expiresAt })
    .onConflict((oc) => oc.column('execution_uuid').doUpdateSet({
      access_token: c.accessToken, refresh_token: c.refreshToken, expires_at: c.expiresAt, refresh_failures: 0,
    }))
    .execute();
}

const columns = ['execution_uuid', 'subject', 'access_token', 'refresh_token', 'expires_at', 'refresh_failures'] as const;
const toCredential = (r: { execution_uuid: string; subject: string; access_token: Buffer; refresh_token: Buffer | null; expires_at: Date | null; refresh_failures: number }): StoredCredential => ({
  executionUuid: r.execution_uuid, subject: r.subject, accessToken: r.access_token, refreshToken: r.refresh_token,
  expiresAt: r.expires_at, refreshFailures: r.refresh_failures,
});

export async function findCredential(db: Db, executionUuid: string): Promise<StoredCredential | undefined> {
  const r = await db.selectFrom('credentials').select(columns).where('execution_uuid', '=', executionUuid).executeTakeFirst();
  return r && toCredential(r);
}

/** Credentials of a platform's unfinished executions that expire within `aheadMs`. */
export async function listExpiringCredentials(db: Db, platform: string, aheadMs: number): Promise<StoredCredential[]> {
  const rows = await db.selectFrom('credentials')
    .innerJoin('executions', 'executions.uuid', 'credentials.execution_uuid')
    .select(columns.map((c) => `credentials.${c}` as const))
    .where('executions.platform', '=', platform)
    .where('executions.phase', 'in', [...ActivePhases])
    .where('credentials.expires_at', '<', sql<Date>`clock_timestamp() + ${`${aheadMs} milliseconds`}::interval`)
    .execute();
  return rows.map(toCredential);
}

export async function recordRefresh(db: Db, executionUuid: string, accessToken: Buffer, refreshToken: Buffer | null, expiresAt: Date | null): Promise<void> {
  await db.updateTable('credentials')
    .set({ access_token: accessToken, refresh_token: refreshToken, expires_at: expiresAt, refreshed_at: new Date(), refresh_failures: 0 })
    .where('execution_uuid', '=', executionUuid)
    .execute();
}

export async function recordRefreshFailure(db: Db, executionUuid: string): Promise<void> {
  await db.updateTable('credentials').set({ refresh_failures: sql`refresh_failures + 1` }).where('execution_uuid', '=', executionUuid).execute();
}
