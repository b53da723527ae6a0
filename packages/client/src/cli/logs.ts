import type { BrokerClient } from '../client.js';
import { TERMINAL_PHASES, type ExecutionPhase } from '../types.js';

export interface LogsOptions {
  stream: 'stdout' | 'stderr';
  /** Keep printing what comes until the executable has ended. */
  follow: boolean;
  timeoutMs: number;
  pollMs?: number;
}

// A platform that cannot read the output one last time leaves it incomplete; stop waiting after this.
const AFTER_END_MS = 15_000;

/**
 * Prints an execution's output stream, then (when following) what it prints next, until its output is
 * complete. Only new bytes are printed each time: the broker says how much was printed in all, and its
 * answer is the end of that. Bytes the broker did not keep are reported on `err`.
 */
export async function printLogs(client: BrokerClient, uuid: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream, o: LogsOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let printed = 0;
  let endedAt: number | undefined;
  for (;;) {
    const got = await client.output(uuid, o.stream);
    const start = got.totalBytes - got.content.length;
    if (got.totalBytes > printed) {
      if (start > printed) err.write(`[${start - printed} bytes not kept by the broker]\n`);
      out.write(got.content.subarray(Math.max(0, printed - start)));
      printed = got.totalBytes;
    }
    if (!o.follow || got.complete || Date.now() > deadline) return;
    const phase = (await client.get(uuid)).phase as ExecutionPhase;
    if (TERMINAL_PHASES.includes(phase)) {
      endedAt ??= Date.now();
      if (Date.now() - endedAt > AFTER_END_MS) return;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}
