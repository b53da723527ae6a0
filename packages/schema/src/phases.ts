// The phase state machine, as data. APIs and workers both consult it; the database applies each
// transition as a compare-and-set on the current phase, so a refused or repeated step changes nothing.

export const ExecutionPhases = [
  'INITIAL', 'OFFERED', 'ACCEPTED', 'REJECTED', 'EXPIRED', 'WAITING', 'PREPARING', 'AVAILABLE',
  'RUNNING', 'RELEASING', 'COMPLETED', 'FAILED', 'CANCELLED',
] as const;
export type ExecutionPhase = (typeof ExecutionPhases)[number];

export const LifecyclePhases = [
  'INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING', 'COMPLETED', 'FAILED',
  'CANCELLED',
] as const;
export type LifecyclePhase = (typeof LifecyclePhases)[number];

const executionTransitions: Record<ExecutionPhase, readonly ExecutionPhase[]> = {
  INITIAL: ['OFFERED'],
  OFFERED: ['ACCEPTED', 'REJECTED', 'EXPIRED'],
  ACCEPTED: ['WAITING', 'FAILED', 'CANCELLED'],
  WAITING: ['PREPARING', 'FAILED', 'CANCELLED'],
  PREPARING: ['AVAILABLE', 'FAILED', 'CANCELLED'],
  AVAILABLE: ['RUNNING', 'RELEASING', 'FAILED', 'CANCELLED'],
  RUNNING: ['RELEASING', 'FAILED', 'CANCELLED'],
  RELEASING: ['COMPLETED', 'FAILED'],
  REJECTED: [],
  EXPIRED: [],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: ExecutionPhase, to: ExecutionPhase): boolean {
  return executionTransitions[from].includes(to);
}

export function allowedFrom(to: ExecutionPhase): ExecutionPhase[] {
  return ExecutionPhases.filter((from) => executionTransitions[from].includes(to));
}

export function isTerminal(phase: ExecutionPhase): boolean {
  return executionTransitions[phase].length === 0;
}

/** Phases in which platform work is under way or owed (the worker or reconciler has a next step). */
export const ActivePhases: readonly ExecutionPhase[] = [
  'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING',
];

/** The phases a client may ask for with an `uri:enum-value-update` on path `phase`. */
export const ClientRequestablePhases: readonly ExecutionPhase[] = ['ACCEPTED', 'REJECTED', 'CANCELLED'];

/** The component lifecycle phase shown while the execution is in a given phase. */
export function componentPhaseFor(phase: ExecutionPhase): LifecyclePhase {
  switch (phase) {
    case 'INITIAL': case 'OFFERED': case 'ACCEPTED': case 'REJECTED': case 'EXPIRED':
      return 'INITIALIZING';
    default:
      return phase;
  }
}

export function isExecutionPhase(value: unknown): value is ExecutionPhase {
  return typeof value === 'string' && (ExecutionPhases as readonly string[]).includes(value);
}
