import type { Pass } from '../pass.js';
import { again, lookAt, type Next } from '../next.js';
import { prepareComponents } from '../components.js';
import { failIfLate } from './deadline.js';

/**
 * Waiting for the booked start: storage is prepared at once, the rest from the start on. Once anything
 * is under way the execution is PREPARING (and AVAILABLE in the same change if all was ready at once);
 * until then, look again at the booked start (which may move earlier: whoever moves it wakes it).
 */
export async function waiting(pass: Pass): Promise<Next> {
  const result = await prepareComponents(pass, 'WAITING');
  if (result === 'failed' || (await failIfLate(pass, 'WAITING'))) return again;
  if (result === 'available') {
    await pass.move('WAITING', ['PREPARING', 'AVAILABLE'], 'the executable is available', { state: { access: pass.accessOf() } });
    return again;
  }
  const anyStarted = pass.record.components.some((c) => c.phase !== 'WAITING' && c.phase !== 'INITIALIZING' && c.role !== 'volume');
  if (!anyStarted) return lookAt(pass.execution.prepare_start.getTime());
  await pass.move('WAITING', 'PREPARING', 'preparing on the platform');
  return again;
}
