import { bookingRelease } from '@eb/schema';
import { releaseExecutionBookings } from '@eb/db';
import type { Pass } from '../pass.js';
import { done, type Next } from '../next.js';
import { releaseComponents } from '../components.js';

/**
 * Ended: a phase that gives the booking back only once the platform released what it made (a failure,
 * a cancel; see bookingRelease in @eb/schema) releases everything, then the booking. Any other end has
 * nothing more owed.
 */
export async function ended(pass: Pass): Promise<Next> {
  if (bookingRelease[pass.execution.phase] !== 'after-release') return done;
  if (!(await releaseComponents(pass, false))) return pass.poll();
  // What was released is stored before the booking is given back: nothing may look released but not be.
  await pass.flush();
  await releaseExecutionBookings(pass.deps.db, pass.uuid);
  pass.deps.onCapacityFreed?.();
  return done;
}
