import { envDurationMs } from '@eb/core';

export interface StepTiming {
  pollMinMs: number;
  pollMaxMs: number;
  /** How long past the offered start of AVAILABLE preparation may run before the execution is cancelled. */
  prepareGraceMs: number;
}

export function stepTiming(): StepTiming {
  return {
    pollMinMs: envDurationMs('EB_POLL_MIN', '250'),
    pollMaxMs: envDurationMs('EB_POLL_MAX', 'PT5S'),
    prepareGraceMs: envDurationMs('EB_PREPARE_GRACE', 'PT30S'),
  };
}

/** Quick polls at first (most steps finish soon), slower later so long waits cost little. */
export function pollDelay(polls: number, t: StepTiming): number {
  return Math.min(t.pollMaxMs, t.pollMinMs * 2 ** Math.min(polls, 20));
}
