import type { ExecutionPhase } from '@eb/schema';
import type { Pass } from '../pass.js';
import { again, lookAt, type Next } from '../next.js';
import { prepareComponents } from '../components.js';
import { failIfLate } from './deadline.js';

export const WAITING_NOTE = 'waiting for the booked start';

/**
 * Waiting for the booked start: storage is prepared at once, the rest from the start on. Once anything
 * is under way the execution is PREPARING (and AVAILABLE in the same change if all was ready at once);
 * until then, look again at the booked start (which may move earlier: whoever moves it wakes it).
 */
export function waiting(pass: Pass): Promise<Next> {
  return waitingFrom(pass, 'WAITING');
}

/** The waiting action for an execution stored as `from` (ACCEPTED: WAITING is passed through on the way). */
export async function waitingFrom(pass: Pass, from: 'ACCEPTED' | 'WAITING'): Promise<Next> {
  const via: ExecutionPhase[] = from === 'ACCEPTED' ? ['WAITING'] : [];
  // WAITING, when passed through, keeps its own note in the history.
  const notes = via.map(() => WAITING_NOTE);
  const result = await prepareComponents(pass, from);
  if (result === 'failed' || (await failIfLate(pass, from))) return again;
  if (result === 'available') {
    await pass.move(from, [...via, 'PREPARING', 'AVAILABLE'], 'the executable is available', { state: { access: pass.accessOf() }, notes });
    return again;
  }
  const anyStarted = pass.record.components.some((c) => c.phase !== 'WAITING' && c.phase !== 'INITIALIZING' && c.role !== 'volume');
  if (anyStarted) {
    await pass.move(from, [...via, 'PREPARING'], 'preparing on the platform', { notes });
    return again;
  }
  if (via.length && !(await pass.move(from, via, WAITING_NOTE))) return again;
  return lookAt(pass.execution.prepare_start.getTime());
}
