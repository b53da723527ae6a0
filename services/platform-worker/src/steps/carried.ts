import type { ExecutionPhase, LifecyclePhase, MessageItem } from '@eb/schema';
import type { ComponentChange, ComponentRow } from '@eb/db';

/** One component's changes that a pass has made on the platform and not yet stored. */
export interface Carried {
  /** The record's row, whose phase is already the one these changes reach. */
  component: ComponentRow;
  /** Its phase as stored, before `path`. */
  before: LifecyclePhase;
  path: LifecyclePhase[];
  notes: string[];
  /** When each phase of `path` was reached, counted across the pass's changes. */
  order: number[];
  /** Its whole platform state, to replace what is stored. */
  state?: Record<string, unknown>;
  messages: MessageItem[];
  /** A move made only while the execution is still in this phase (a cancel may have come meanwhile). */
  whilePhase?: ExecutionPhase;
  /** Made on the platform by this pass: released again if the change cannot be stored. */
  made: boolean;
}

export interface CarryChange {
  path?: readonly LifecyclePhase[];
  note?: string;
  state?: Record<string, unknown>;
  messages?: readonly MessageItem[];
  whilePhase?: ExecutionPhase;
  made?: boolean;
}

/**
 * What a pass learnt of its components and has yet to store. It goes with the execution's next move
 * (one statement for the execution and all its components), or on its own once the action ends: the
 * same compare-and-sets in fewer round trips.
 */
export class CarriedChanges {
  private readonly byUuid = new Map<string, Carried>();
  private reached = 0;

  add(component: ComponentRow, change: CarryChange): void {
    const c = this.byUuid.get(component.uuid)
      ?? { component, before: component.phase, path: [], notes: [], order: [], messages: [], made: false };
    for (const p of change.path ?? []) {
      c.path.push(p);
      c.notes.push(change.note ?? '');
      c.order.push(this.reached++);
    }
    if (change.path?.length) component.phase = change.path.at(-1)!;
    if (change.state) c.state = change.state;
    if (change.messages) c.messages.push(...change.messages);
    c.whilePhase ??= change.whilePhase;
    c.made ||= change.made ?? false;
    this.byUuid.set(component.uuid, c);
  }

  /** All carried changes, handed over to be stored (and forgotten here). */
  take(): Carried[] {
    const all = [...this.byUuid.values()];
    this.byUuid.clear();
    return all;
  }
}

/** A carried change as the execution's move stores it. */
export function asComponentChange(c: Carried): ComponentChange {
  return {
    uuid: c.component.uuid,
    from: c.path.length ? c.before : c.component.phase,
    path: c.path,
    notes: c.notes,
    order: c.order,
    ...(c.state ? { state: c.state } : {}),
    ...(c.messages.length ? { messages: c.messages } : {}),
  };
}
