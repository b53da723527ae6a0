import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { graphOf } from '../platforms/graph.js';

// Components with a lifecycle, in the order they are prepared; release goes data first, storage last.
const PREPARE_ORDER = ['storage', 'data', 'compute', 'executable'] as const;
const RELEASE_ORDER = ['data', 'executable', 'compute', 'storage'] as const;

const byOrder = (order: readonly string[]) => (record: ExecutionRecord): ComponentRow[] =>
  order.flatMap((role) => record.components.filter((c) => c.role === role));

export const inPrepareOrder = byOrder(PREPARE_ORDER);
export const inReleaseOrder = byOrder(RELEASE_ORDER);

/** What must be AVAILABLE before a component may start preparing (see ComponentGraph). */
export function dependenciesOf(c: ComponentRow, record: ExecutionRecord): ComponentRow[] {
  return graphOf(record).dependenciesOf(c);
}

/** Storage starts at once; everything else waits for the booked start. */
export function waitsForStart(c: ComponentRow): boolean {
  return c.role !== 'storage';
}
