import type { Pass } from '../pass.js';
import { again, type Next } from '../next.js';

/** Accepted: it waits for its booked start from now on (the next phase's action runs at once). */
export async function accepted(pass: Pass): Promise<Next> {
  await pass.move('ACCEPTED', 'WAITING', 'waiting for the booked start');
  return again;
}
