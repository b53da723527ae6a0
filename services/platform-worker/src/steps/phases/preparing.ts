import type { Pass } from '../pass.js';
import { again, type Next } from '../next.js';
import { prepareComponents } from '../components.js';
import { failIfLate } from './deadline.js';

/** Preparing: components go on in dependency order; the execution is AVAILABLE once its executable is. */
export async function preparing(pass: Pass): Promise<Next> {
  const result = await prepareComponents(pass, 'PREPARING');
  if (result === 'failed' || (await failIfLate(pass, 'PREPARING'))) return again;
  if (result === 'available') {
    await pass.move('PREPARING', 'AVAILABLE', 'the executable is available', { state: { access: pass.accessOf() } });
    return again;
  }
  // Poll what is preparing, but wake no later than the booked start (storage may start before it).
  const start = pass.execution.prepare_start.getTime();
  return pass.poll(start > Date.now() ? start : Infinity);
}
