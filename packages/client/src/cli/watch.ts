import type { BrokerClient } from '../client.js';
import type { Execution } from '../types.js';
import { elapsed } from './format.js';

/**
 * Follows an execution to its end, showing each phase with the time since watching began (one line
 * per change; on a terminal the current line also ticks). Resolves with the final execution.
 */
export async function watch(client: BrokerClient, uuid: string, out: NodeJS.WriteStream, timeoutMs: number): Promise<Execution> {
  const started = Date.now();
  let last = '';
  const tty = out.isTTY === true;
  const ticker = tty ? setInterval(() => out.write(`\r[${elapsed(Date.now() - started)}] ${last}   `), 200) : undefined;
  try {
    return await client.waitUntilTerminal(uuid, {
      timeoutMs,
      onUpdate: (e) => {
        const phase = e.phase ?? '?';
        if (phase === last) return;
        last = phase;
        out.write(`${tty ? '\r' : ''}[${elapsed(Date.now() - started)}] ${phase}\n`);
      },
    });
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
