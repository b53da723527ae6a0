import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { findReferenced } from '../platforms/references.js';

// Components with a lifecycle, in the order they are prepared; release goes data first, storage last.
const PREPARE_ORDER = ['storage', 'data', 'compute', 'executable'] as const;
const RELEASE_ORDER = ['data', 'executable', 'compute', 'storage'] as const;

const byOrder = (order: readonly string[]) => (record: ExecutionRecord): ComponentRow[] =>
  order.flatMap((role) => record.components.filter((c) => c.role === role));

export const inPrepareOrder = byOrder(PREPARE_ORDER);
export const inReleaseOrder = byOrder(RELEASE_ORDER);

const named = (record: ExecutionRecord, ref: unknown) => {
  const c = findReferenced(record, ref);
  return c ? [c] : [];
};

/**
 * What must be AVAILABLE before a component may start preparing: data needs its storage; compute
 * needs every data component and whatever its volumes mount; the executable needs the compute too.
 * (The upstream broker prepares everything at once, so a container could start before its volume exists.)
 */
export function dependenciesOf(c: ComponentRow, record: ExecutionRecord): ComponentRow[] {
  switch (c.role) {
    case 'data':
      return named(record, (c.spec as { storage?: string }).storage);
    case 'compute':
    case 'executable': {
      const mounts = record.components
        .filter((v) => v.role === 'volume')
        .flatMap((v) => named(record, (v.spec as { resource?: string }).resource));
      const data = record.components.filter((d) => d.role === 'data');
      const compute = c.role === 'executable' ? record.components.filter((x) => x.role === 'compute') : [];
      return [...new Set([...mounts, ...data, ...compute])];
    }
    default:
      return [];
  }
}

/** Storage starts at once; everything else waits for the booked start. */
export function waitsForStart(c: ComponentRow): boolean {
  return c.role !== 'storage';
}
