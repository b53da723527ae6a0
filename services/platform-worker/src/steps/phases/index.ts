import type { ExecutionPhase } from '@eb/schema';
import type { Pass } from '../pass.js';
import type { Next } from '../next.js';
import { accepted } from './accepted.js';
import { waiting } from './waiting.js';
import { preparing } from './preparing.js';
import { available } from './available.js';
import { releasing } from './releasing.js';
import { ended } from './ended.js';

/** What a worker does for an execution in each phase (the transitions themselves are @eb/schema's). */
export const phaseActions: Record<ExecutionPhase, (pass: Pass) => Promise<Next>> = {
  INITIAL: ended,
  OFFERED: ended,
  ACCEPTED: accepted,
  WAITING: waiting,
  PREPARING: preparing,
  AVAILABLE: available,
  // Never entered: an executable in service is AVAILABLE (RUNNING is in the spec's machine only).
  RUNNING: ended,
  RELEASING: releasing,
  REJECTED: ended,
  EXPIRED: ended,
  COMPLETED: ended,
  FAILED: ended,
  CANCELLED: ended,
};
