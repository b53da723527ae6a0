import { message } from '@eb/schema';
import type { Pass } from '../pass.js';
import { again, lookAt, type Next } from '../next.js';

/**
 * In service: a batch executable is watched until it ends (exit 0 releases, anything else fails); an
 * interactive one, or the booked time of one without an executable, runs to the booked end (which an
 * extension may move later: the move re-checks the end as stored).
 */
export async function available(pass: Pass): Promise<Next> {
  const end = pass.execution.release_start.getTime();
  const exe = pass.record.components.find((c) => c.role === 'executable');
  if (!exe) return endOfBooking(pass, end, lookAt(end));
  const ctx = pass.contextFor(exe);
  const s = await pass.deps.platform.status(ctx);
  pass.save(ctx, s);
  if (s.status === 'failed') {
    await pass.fail('AVAILABLE', [message('urn:platform-failure', 'ERROR', 'The executable failed: {reason}', { reason: s.reason })], exe);
    return again;
  }
  if (s.status === 'available') {
    pass.watchEnd(ctx);
    await pass.outputs.live(ctx);
  }
  if (s.status !== 'finished') return endOfBooking(pass, end, pass.poll(end));
  const exit = message('urn:exit-code', s.exitCode === 0 ? 'INFO' : 'ERROR', 'The executable exited with code {code}: {log}', {
    code: s.exitCode, log: (s.logTail ?? []).join('\n'),
  });
  if (s.exitCode !== 0) {
    await pass.keepOutput(ctx);
    await pass.fail('AVAILABLE', [exit], exe);
    return again;
  }
  await pass.keepOutput(ctx, [exit]);
  await pass.move('AVAILABLE', 'RELEASING', 'the executable finished');
  return again;
}

/** Past the booked end: release (if the end stored now has not been moved later); otherwise `meanwhile`. */
async function endOfBooking(pass: Pass, end: number, meanwhile: Next): Promise<Next> {
  if (Date.now() < end) return meanwhile;
  await pass.move('AVAILABLE', 'RELEASING', 'the booked duration ended', { onlyIfEnded: true });
  return again;
}
