import type { Pass } from '../pass.js';
import { done, type Next } from '../next.js';
import { releaseComponents } from '../components.js';

/** Releasing: data first, storage last; COMPLETED gives the booking back in the same change. */
export async function releasing(pass: Pass): Promise<Next> {
  if (!(await releaseComponents(pass, true))) return pass.poll();
  if (await pass.move('RELEASING', 'COMPLETED', 'released')) pass.deps.onCapacityFreed?.();
  return done;
}
