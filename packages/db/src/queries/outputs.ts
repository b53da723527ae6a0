import { sql } from 'kysely';
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
  await db.insertInto('execution_outputs')
    .values(captures.map((c) => ({ execution_uuid: executionUuid, stream: c.stream, content: c.content, total_bytes: c.totalBytes, final })))
    .onConflict((oc) => oc.columns(['execution_uuid', 'stream']).doUpdateSet((eb) => ({
      content: eb.ref('excluded.content'), total_bytes: eb.ref('excluded.total_bytes'), final: eb.ref('excluded.final'),
      captured_at: sql<Date>`clock_timestamp()`,
    })).where('execution_outputs.final', '=', false))
    .execute();
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
