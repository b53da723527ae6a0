import { message, type ExecutionPhase } from '@eb/schema';
import type { Pass } from '../pass.js';
import { inPrepareOrder } from '../dependencies.js';

/** The latest a preparation may end: the offer's start of AVAILABLE plus the grace period. */
export const prepareDeadline = (pass: { execution: { available_start: Date }; deps: { timing: { prepareGraceMs: number } } }) =>
  pass.execution.available_start.getTime() + pass.deps.timing.prepareGraceMs;

/**
 * Fails a preparation that ran past its deadline, whatever finished meanwhile: the program could no
 * longer run its booked time. True when it did.
 */
export async function failIfLate(pass: Pass, phase: ExecutionPhase): Promise<boolean> {
  const deadline = prepareDeadline(pass);
  if (Date.now() <= deadline) return false;
  const pending = inPrepareOrder(pass.record).filter((c) => c.phase !== 'AVAILABLE').map((c) => c.name ?? c.role);
  await pass.fail(phase, [message('urn:prepare-timeout', 'ERROR', 'Not ready by {deadline}, the latest the offer allows{pending}', {
    deadline: new Date(deadline).toISOString(), pending: pending.length ? `: ${pending.join(', ')} still preparing` : '',
  })]);
  return true;
}
