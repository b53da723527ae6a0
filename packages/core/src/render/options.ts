import { ActivePhases, canTransition, ClientRequestablePhases, type AbstractOption, type ExecutionPhase } from '@eb/schema';
import type { ExecutionRow } from '@eb/db';
import { EXTENDABLE_PHASES } from '@eb/db';
import { DURATION_PATH } from '../actions/extend.js';
import { maxDurationMsFromEnv } from '../config/duration-policy.js';

export type UpdateOption = AbstractOption;

/**
 * What the client may change now (the spec's `meta.options`): the phases it may ask for from here,
 * and, while the booking is live, a longer available duration (in seconds; as far as the max-duration
 * policy allows).
 */
export function optionsFor(e: ExecutionRow): UpdateOption[] {
  const phase = e.phase as ExecutionPhase;
  const out: UpdateOption[] = [];
  const phases = ClientRequestablePhases.filter((p) => canTransition(phase, p));
  if (phases.length) out.push({ kind: 'uri:enum-value-option', path: 'phase', values: [...phases] });
  if (EXTENDABLE_PHASES.includes(phase) && ActivePhases.includes(phase)) {
    const now = Math.ceil(e.available_ms / 1000);
    const max = maxDurationMsFromEnv();
    const most = max === undefined ? undefined : Math.floor(max / 1000);
    if (most === undefined || most > now) {
      out.push(
        { kind: 'uri:integer-delta-option', path: DURATION_PATH, min: 1, ...(most !== undefined ? { max: most - now } : {}), units: 'seconds' },
        { kind: 'uri:integer-value-option', path: DURATION_PATH, min: now + 1, ...(most !== undefined ? { max: most } : {}), units: 'seconds' },
      );
    }
  }
  return out;
}
