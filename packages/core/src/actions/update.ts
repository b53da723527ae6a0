import type { Logger } from 'pino';
import {
  ActivePhases, allowedFrom, canTransition, ClientRequestablePhases, isExecutionPhase, type AbstractUpdate,
  type ExecutionPhase,
} from '@eb/schema';
import { findExecutionRow, transitionExecution, type Db } from '@eb/db';
import { wakeExecution, type StepQueues } from '../queue/steps.js';
import { acceptOffer } from './accept.js';
import { canonicalUpdatePath } from './update-path.js';
import { DURATION_PATH, applyDurationUpdate } from './extend.js';

export type UpdateOutcome =
  | { outcome: 'applied' }
  | { outcome: 'not-found' }
  | { outcome: 'unprocessable'; detail: string }
  | { outcome: 'conflict'; detail: string; phase: ExecutionPhase };

/**
 * Applies a client's update document: `uri:enum-value-update` on `phase`, or an integer value or delta
 * update on `schedule.available.duration` (what `meta.options` advertise). Anything else is refused
 * rather than silently ignored.
 */
export async function applyClientUpdate(
  db: Db, queues: StepQueues, uuid: string, update: AbstractUpdate, logger: Logger,
): Promise<UpdateOutcome> {
  const path = canonicalUpdatePath(update.path);
  if (path === DURATION_PATH) return applyDurationUpdate(db, uuid, update);
  if (update.kind !== 'uri:enum-value-update' || path !== 'phase') {
    return { outcome: 'unprocessable', detail: `The broker cannot apply a ${update.kind} to path '${update.path}'; it takes uri:enum-value-update on 'phase' and integer updates on '${DURATION_PATH}'.` };
  }
  const target = update.value;
  if (!isExecutionPhase(target) || !ClientRequestablePhases.includes(target)) {
    return { outcome: 'unprocessable', detail: `A client may set phase to ${ClientRequestablePhases.join(', ')}, not '${target}'.` };
  }
  // A concurrent worker step may move the phase under us; retry the compare-and-set a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await findExecutionRow(db, uuid);
    if (!row) return { outcome: 'not-found' };
    const from = row.phase;
    if (!canTransition(from, target)) {
      if (from === 'EXPIRED') return { outcome: 'conflict', phase: from, detail: 'The offer has expired; ask for a new offer set.' };
      return {
        outcome: 'conflict', phase: from,
        detail: `Cannot move from ${from} to ${target}; ${target} is reachable only from ${allowedFrom(target).join(', ')}.`,
      };
    }
    if (target === 'ACCEPTED') {
      const r = await acceptOffer(db, queues, uuid, logger);
      if (r.outcome === 'accepted') return { outcome: 'applied' };
      if (r.outcome === 'not-found') return r;
      if (r.outcome === 'expired') return { outcome: 'conflict', phase: 'EXPIRED', detail: 'The offer expired before it was accepted.' };
      if (r.outcome === 'over-quota') return { outcome: 'conflict', phase: 'OFFERED', detail: r.detail };
      continue;
    }
    if (await transitionExecution(db, uuid, from, target, `${target.toLowerCase()} by the client`)) {
      if (target === 'CANCELLED' && ActivePhases.includes(from)) {
        // The workers release whatever the platform holds; the reconciler covers a lost enqueue.
        await wakeExecution(queues.for(row.platform), uuid).catch((err: unknown) => logger.warn({ err, uuid }, 'could not enqueue release'));
      }
      return { outcome: 'applied' };
    }
  }
  const row = await findExecutionRow(db, uuid);
  return { outcome: 'conflict', phase: row?.phase ?? 'INITIAL', detail: 'The execution changed phase while the update was applied; try again.' };
}
