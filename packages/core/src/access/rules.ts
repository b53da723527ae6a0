import type { ExecutionPhase } from '@eb/schema';

export interface Caller {
  subject: string;
  groups: string[];
  admin: boolean;
}

export interface Owned {
  owner: string;
  readers: string[];
}

/** The owner, an admin, or a member of a group the owner granted read access to. */
export function canRead(caller: Caller, resource: Owned): boolean {
  return caller.admin || caller.subject === resource.owner || caller.groups.some((g) => resource.readers.includes(g));
}

/** Only the owner changes an execution; an admin may also cancel it. */
export function canUpdate(caller: Caller, resource: Owned, target: ExecutionPhase): boolean {
  return caller.subject === resource.owner || (caller.admin && target === 'CANCELLED');
}

/** Changes other than a phase (e.g. a longer duration) are the owner's alone. */
export function canChangeSchedule(caller: Caller, resource: Owned): boolean {
  return caller.subject === resource.owner;
}
