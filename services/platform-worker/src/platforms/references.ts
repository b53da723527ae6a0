import type { ComponentRow, ExecutionRecord } from '@eb/db';

/**
 * The component a reference (`data.storage`, `volume.resource`) points at. Offers carry the referenced
 * component's UUID; executions stored before that carry its name, so a name still matches.
 */
export function findReferenced(
  record: Pick<ExecutionRecord, 'components'>,
  ref: unknown,
  roles: readonly ComponentRow['role'][] = ['storage', 'data'],
): ComponentRow | undefined {
  if (typeof ref !== 'string') return undefined;
  const candidates = record.components.filter((c) => roles.includes(c.role));
  return candidates.find((c) => c.uuid === ref) ?? candidates.find((c) => c.name === ref);
}
