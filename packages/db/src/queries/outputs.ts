import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../connect.js';

export type OutputStream = 'stdout' | 'stderr' | 'notebook';

export interface StoredOutput {
  content: Buffer;
  totalBytes: number;
  final: boolean;
  capturedAt: Date;
}

/**
 * Keeps the latest capture of an executable's output stream. A final capture (taken once the
 * executable ended) is never replaced by a later live one, which could only be empty or stale.
 */
export async function saveOutput(db: Db, executionUuid: string, stream: OutputStream, content: Buffer, totalBytes: number, final: boolean): Promise<void> {
  await saveOutputs(db, executionUuid, [{ stream, content, totalBytes }], final);
}

export interface CapturedStream {
  stream: OutputStream;
  content: Buffer;
  totalBytes: number;
}

/** saveOutput for several streams of one execution, in one statement. */
export async function saveOutputs(db: Db, executionUuid: string, captures: readonly CapturedStream[], final: boolean): Promise<void> {
  if (captures.length === 0) return;
  await upsertOutputs(sql`(select ${executionUuid}::uuid as uuid)`, captures, final).execute(db);
}

/**
 * The statement that keeps captures for the executions of `owners` (a relation with a `uuid` column,
 * such as a phase move's `moved`): a final capture is never replaced by a later one. Each stream's
 * content is a parameter of its own (sent as bytes; an array would be sent as twice as much hex).
 */
export function upsertOutputs(owners: RawBuilder<unknown>, captures: readonly CapturedStream[], final: boolean): RawBuilder<unknown> {
  const rows = sql.join(captures.map((c) => sql`(${c.stream}::text, ${c.content}::bytea, ${c.totalBytes}::bigint)`));
  return sql`
    insert into execution_outputs as o (execution_uuid, stream, content, total_bytes, final)
    select w.uuid, x.stream, x.content, x.total_bytes, ${final}::boolean
    from ${owners} w, (values ${rows}) as x(stream, content, total_bytes)
    on conflict (execution_uuid, stream) do update
      set content = excluded.content, total_bytes = excluded.total_bytes, final = excluded.final, captured_at = clock_timestamp()
      where o.final = false`;
}

/** Marks a stream as complete with what was last captured (nothing, if nothing was). */
export async function finishOutput(db: Db, executionUuid: string, stream: OutputStream): Promise<void> {
  await db.insertInto('execution_outputs')
    .values({ execution_uuid: executionUuid, stream, content: Buffer.alloc(0), total_bytes: 0, final: true })
    .onConflict((oc) => oc.columns(['execution_uuid', 'stream']).doUpdateSet({ final: true }))
    .execute();
}

export async function readOutput(db: Db, executionUuid: string, stream: OutputStream): Promise<StoredOutput | undefined> {
  const row = await db.selectFrom('execution_outputs')
    .select(['content', 'total_bytes', 'final', 'captured_at'])
    .where('execution_uuid', '=', executionUuid)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row && { content: row.content, totalBytes: row.total_bytes, final: row.final, capturedAt: row.captured_at };
}
