import { formatDuration, type AbstractUpdate } from '@eb/schema';
import { extendAvailable, findExecutionRow, type Db } from '@eb/db';
import { maxDurationMsFromEnv } from '../config/duration-policy.js';
import type { UpdateOutcome } from './update.js';

/** The path of the available duration, as options advertise it (a JSON Pointer form is accepted too). */
export const DURATION_PATH = 'schedule.available.duration';

const UNIT_MS: Record<string, number> = {
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
};

/**
 * An integer value or delta update of the available duration (in seconds unless `units` says
 * minutes or hours). Only a longer duration is taken: the booking grows when the platform has room
 * for it over the added time, under its lock; otherwise nothing changes.
 */
export async function applyDurationUpdate(db: Db, uuid: string, update: AbstractUpdate): Promise<UpdateOutcome> {
  if (update.kind !== 'uri:integer-delta-update' && update.kind !== 'uri:integer-value-update') {
    return { outcome: 'unprocessable', detail: `The available duration takes uri:integer-delta-update or uri:integer-value-update, not ${update.kind}.` };
  }
  const units = (update.units ?? 'seconds').toLowerCase();
  const unitMs = UNIT_MS[units];
  if (!unitMs) return { outcome: 'unprocessable', detail: `Units '${update.units}' are not known; use seconds, minutes or hours.` };
  const row = await findExecutionRow(db, uuid);
  if (!row) return { outcome: 'not-found' };
  const wanted = update.kind === 'uri:integer-delta-update' ? row.available_ms + update.delta * unitMs : update.value * unitMs;
  if (!Number.isSafeInteger(wanted) || wanted <= row.available_ms) {
    return { outcome: 'unprocessable', detail: `Only a longer available duration can be given (now ${formatDuration(row.available_ms)}).` };
  }
  const max = maxDurationMsFromEnv();
  if (max !== undefined && wanted > max) {
    return { outcome: 'conflict', phase: row.phase, detail: `Refused by policy [max-duration]: ${formatDuration(wanted)} is longer than the ${formatDuration(max)} allowed.` };
  }
  const r = await extendAvailable(db, uuid, wanted, `${update.kind} by the client`);
  switch (r.outcome) {
    case 'extended':
    case 'not-found':
      return r.outcome === 'extended' ? { outcome: 'applied' } : r;
    case 'conflict':
      return { outcome: 'conflict', phase: r.phase, detail: `The available duration cannot change in phase ${r.phase}.` };
    case 'no-capacity':
      return {
        outcome: 'conflict', phase: row.phase,
        detail: `Not enough free [${r.short.join(', ')}] on the platform from ${r.from.toISOString()} to ${r.to.toISOString()} to extend the execution.`,
      };
  }
}
