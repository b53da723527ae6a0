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
  // A client may cancel at any phase until the end; cancelling an offer is like rejecting it.
  OFFERED: ['ACCEPTED', 'REJECTED', 'EXPIRED', 'CANCELLED'],
  ACCEPTED: ['WAITING', 'FAILED', 'CANCELLED'],
  WAITING: ['PREPARING', 'FAILED', 'CANCELLED'],
  PREPARING: ['AVAILABLE', 'FAILED', 'CANCELLED'],
  AVAILABLE: ['RUNNING', 'RELEASING', 'FAILED', 'CANCELLED'],
  RUNNING: ['RELEASING', 'FAILED', 'CANCELLED'],
  RELEASING: ['COMPLETED', 'FAILED', 'CANCELLED'],
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

/**
 * When an execution entering a phase gives back its booking (or, for an offer, its hold): `at-once`
 * when nothing of it is left on the platform (an offer that ends unaccepted; a completion, whose
 * release is done); `after-release` when the platform must first release what it made (a failure, a
 * cancel), which the worker does before it gives the booking back; `keep` otherwise.
 */
export const bookingRelease: Record<ExecutionPhase, 'keep' | 'at-once' | 'after-release'> = {
  INITIAL: 'keep',
  OFFERED: 'keep',
  ACCEPTED: 'keep',
  WAITING: 'keep',
  PREPARING: 'keep',
  AVAILABLE: 'keep',
  RUNNING: 'keep',
  RELEASING: 'keep',
  REJECTED: 'at-once',
  EXPIRED: 'at-once',
  COMPLETED: 'at-once',
  FAILED: 'after-release',
  CANCELLED: 'after-release',
};

/** Whether moving from `from` to `to` gives the booking back in the same change: an offer has nothing on the platform. */
export function releasesBookingAtOnce(from: ExecutionPhase, to: ExecutionPhase): boolean {
  return bookingRelease[to] === 'at-once' || (from === 'OFFERED' && bookingRelease[to] === 'after-release');
}

/** Phases in which platform work is under way or owed (the worker or reconciler has a next step). */
export const ActivePhases: readonly ExecutionPhase[] = [
  'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING',
];

/** The phases a client may ask for with an `uri:enum-value-update` on path `phase`. */
export const ClientRequestablePhases: readonly ExecutionPhase[] = ['ACCEPTED', 'REJECTED', 'CANCELLED'];

const lifecycleTransitions: Record<LifecyclePhase, readonly LifecyclePhase[]> = {
  INITIALIZING: ['WAITING', 'FAILED', 'CANCELLED'],
  WAITING: ['PREPARING', 'FAILED', 'CANCELLED'],
  PREPARING: ['AVAILABLE', 'FAILED', 'CANCELLED'],
  AVAILABLE: ['RUNNING', 'RELEASING', 'FAILED', 'CANCELLED'],
  RUNNING: ['RELEASING', 'FAILED', 'CANCELLED'],
  RELEASING: ['COMPLETED', 'FAILED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransitionComponent(from: LifecyclePhase, to: LifecyclePhase): boolean {
  return lifecycleTransitions[from].includes(to);
}

export function isTerminalComponent(phase: LifecyclePhase): boolean {
  return lifecycleTransitions[phase].length === 0;
}

/**
 * What an execution's phase change does to its components' phases, where it decides them: accepting
 * puts every component WAITING; ending the execution ends every component still under way. Between
 * those, the workers move each component on its own, in dependency order.
 */
export const componentEffects: Partial<Record<ExecutionPhase, { from: readonly LifecyclePhase[]; to: LifecyclePhase }>> = {
  WAITING: { from: ['INITIALIZING'], to: 'WAITING' },
  COMPLETED: { from: ['INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING'], to: 'COMPLETED' },
  FAILED: { from: ['INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING'], to: 'CANCELLED' },
  CANCELLED: { from: ['INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING', 'RELEASING'], to: 'CANCELLED' },
};

/**
 * The execution phase that its components' phases imply, for the phases the workers drive
 * (WAITING to COMPLETED): failed if any failed, released once all are done, available once the
 * executable is, preparing once anything is.
 */
export function deriveExecutionPhase(components: readonly { role: string; phase: LifecyclePhase }[]): ExecutionPhase {
  const phases = components.map((c) => c.phase);
  const exe = components.find((c) => c.role === 'executable')?.phase;
  if (phases.includes('FAILED')) return 'FAILED';
  if (phases.length && phases.every((p) => p === 'COMPLETED')) return 'COMPLETED';
  if (phases.includes('RELEASING')) return 'RELEASING';
  if (exe === 'RUNNING') return 'RUNNING';
  if (exe === 'AVAILABLE') return 'AVAILABLE';
  if (phases.some((p) => p === 'PREPARING' || p === 'AVAILABLE')) return 'PREPARING';
  return 'WAITING';
}

export function isExecutionPhase(value: unknown): value is ExecutionPhase {
  return typeof value === 'string' && (ExecutionPhases as readonly string[]).includes(value);
}
