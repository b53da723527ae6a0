import type { BrokerClient } from '../client.js';
import type { Execution } from '../types.js';
import { elapsed } from './format.js';

/** The execution's phase changes so far, from its `urn:phase-change` messages, oldest first. */
function phaseChanges(e: Execution): { phase: string; at: number }[] {
  return (e.meta?.messages ?? [])
    .filter((m) => m.kind === 'urn:phase-change' && m.values?.phase)
    .map((m) => ({ phase: m.values!.phase!, at: Date.parse(m.time ?? '') || Date.now() }));
}

/**
 * Follows an execution to its end, printing each phase it passes through with the time since watching
 * began. Phases come from the execution's own history, so a phase shorter than a poll is still shown.
 * On a terminal the current line also ticks. Resolves with the final execution.
 */
export async function watch(client: BrokerClient, uuid: string, out: NodeJS.WriteStream, timeoutMs: number): Promise<Execution> {
  const started = Date.now();
  let printed = 0;
  let last = '';
  const tty = out.isTTY === true;
  const ticker = tty ? setInterval(() => out.write(`\r[${elapsed(Date.now() - started)}] ${last}   `), 200) : undefined;
  try {
    return await client.waitUntilTerminal(uuid, {
      timeoutMs,
      onUpdate: (e) => {
        const changes = phaseChanges(e);
        // The first answer shows where it stands; later ones each change since.
        const fresh = printed === 0 ? changes.slice(-1) : changes.slice(printed);
        for (const c of fresh) {
          last = c.phase;
          out.write(`${tty ? '\r' : ''}[${elapsed(Math.max(0, c.at - started))}] ${c.phase}\n`);
        }
        printed = Math.max(printed, changes.length);
      },
    });
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
