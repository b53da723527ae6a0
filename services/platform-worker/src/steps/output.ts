import type { Logger } from 'pino';
import { envDurationMs, envInt } from '@eb/core';
import { finishOutput, saveOutputs, type CapturedStream, type Db } from '@eb/db';
import type { ComponentContext, OutputStream, PlatformAdapter } from '../platforms/adapter.js';
import { MAX_NOTEBOOK_BYTES } from '../notebooks/fetch-notebook.js';

export interface OutputSettings {
  /** How often a running executable's output is read back into the database. */
  everyMs: number;
  /** How much of the end of each stream is kept. */
  maxBytes: number;
}

export function outputSettings(): OutputSettings {
  return { everyMs: envDurationMs('EB_OUTPUT_CAPTURE_EVERY', 'PT5S'), maxBytes: envInt('EB_OUTPUT_MAX_BYTES', 2 ** 20) };
}

export interface OutputCapture {
  /** Reads the output while the executable runs, at most every `everyMs` per execution. */
  live(ctx: ComponentContext): Promise<void>;
  /**
   * Reads the output once the executable has ended and before it is released: what is kept for good,
   * handed back to be stored with the execution's next move (or on its own: saveOutputs, final).
   */
  final(ctx: ComponentContext): Promise<CapturedStream[]>;
}

/**
 * Copies what executables print into PostgreSQL, so the execution API can serve it from any replica,
 * while the executable runs and after its container or pod is gone. Reading output never fails a step:
 * a platform that cannot give it back now leaves the last capture in place.
 */
export function outputCapture(db: Db, platform: PlatformAdapter, s: OutputSettings, logger: Logger): OutputCapture {
  const lastLive = new Map<string, number>();

  async function capture(ctx: ComponentContext, final: boolean): Promise<CapturedStream[]> {
    if (!platform.output) return [];
    const e = ctx.record.execution;
    const streams = e.outputs.filter((x): x is OutputStream => (platform.outputStreams ?? []).includes(x as OutputStream))
      // The executed notebook is whole only once the executable has ended: kept then, whole.
      .filter((x) => final || x !== 'notebook');
    const captured: CapturedStream[] = [];
    for (const stream of streams) {
      try {
        const out = await platform.output(ctx, stream, stream === 'notebook' ? MAX_NOTEBOOK_BYTES : s.maxBytes);
        if (out) captured.push({ stream, content: out.content, totalBytes: out.totalBytes });
        else if (final) await finishOutput(db, e.uuid, stream);
      } catch (err) {
        logger.warn({ uuid: e.uuid, stream, err: (err as Error).message }, 'could not read the output');
      }
    }
    return captured;
  }

  return {
    async live(ctx) {
      const uuid = ctx.record.execution.uuid;
      if (Date.now() - (lastLive.get(uuid) ?? 0) < s.everyMs) return;
      // Executions finished on another worker leave an entry here; forget them all now and then.
      if (lastLive.size > 10_000) lastLive.clear();
      lastLive.set(uuid, Date.now());
      // All streams in one statement: one round trip, and they are read back as of one instant.
      await saveOutputs(db, uuid, await capture(ctx, false), false)
        .catch((err: unknown) => logger.warn({ uuid, err: (err as Error).message }, 'could not keep the output'));
    },
    final(ctx) {
      lastLive.delete(ctx.record.execution.uuid);
      return capture(ctx, true);
    },
  };
}
