import type { Pass } from '../pass.js';
import type { Next } from '../next.js';
import { WAITING_NOTE, waitingFrom } from './waiting.js';

/**
 * Accepted: it waits for its booked start from now on. Its first look is the waiting one: what can be
 * prepared now is, and the execution goes WAITING (and on, as far as that got) in one change.
 */
export async function accepted(pass: Pass): Promise<Next> {
  for (const c of pass.record.components) {
    if (c.phase === 'INITIALIZING') pass.carryMove(c, ['WAITING'], WAITING_NOTE);
  }
  return waitingFrom(pass, 'ACCEPTED');
}
