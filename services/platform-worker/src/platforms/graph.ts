import type { DataResource, SimpleVolumeMount } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';

/** A volume mount with what it mounts: the component named, and the one whose storage holds its files. */
export interface Mount {
  volume: ComponentRow;
  path: string;
  readOnly: boolean;
  target: ComponentRow;
  holder: ComponentRow;
}

type Role = ComponentRow['role'];

/**
 * How an execution's components refer to each other, worked out in one place for every platform and
 * for the steps: which storage a data item lives in, what each volume mounts, what waits for what.
 * Offers carry references as the referenced component's UUID; executions stored before that carry its
 * name, so a name still matches.
 */
export class ComponentGraph {
  constructor(private readonly record: Pick<ExecutionRecord, 'components'>) {}

  /** The component a reference (`data.storage`, `volume.resource`) points at. */
  find(ref: unknown, roles: readonly Role[] = ['storage', 'data']): ComponentRow | undefined {
    if (typeof ref !== 'string') return undefined;
    const candidates = this.record.components.filter((c) => roles.includes(c.role));
    return candidates.find((c) => c.uuid === ref) ?? candidates.find((c) => c.name === ref);
  }

  /** The storage a data item is staged into, when it names one. */
  storageOf(data: ComponentRow): ComponentRow | undefined {
    return data.role === 'data' ? this.find((data.spec as DataResource).storage, ['storage']) : undefined;
  }

  /** The component whose storage holds `c`'s files: a storage itself, data its storage or (naming none) itself. */
  holderOf(c: ComponentRow): ComponentRow {
    return this.storageOf(c) ?? c;
  }

  /** The volume mounts whose target exists, in order. */
  mounts(): Mount[] {
    return this.record.components.filter((c) => c.role === 'volume').flatMap((volume) => {
      const m = volume.spec as SimpleVolumeMount;
      const target = this.find(m.resource);
      if (!target || typeof m.path !== 'string') return [];
      return [{ volume, path: m.path, readOnly: m.mode !== 'READWRITE', target, holder: this.holderOf(target) }];
    });
  }

  /**
   * What must be AVAILABLE before `c` may start preparing: data needs its storage; compute needs every
   * data component and whatever its volumes mount; the executable needs the compute too. (The upstream
   * broker prepares everything at once, so a container could start before its volume exists.)
   */
  dependenciesOf(c: ComponentRow): ComponentRow[] {
    switch (c.role) {
      case 'data': {
        const storage = this.storageOf(c);
        return storage ? [storage] : [];
      }
      case 'compute':
      case 'executable': {
        const mounted = this.mounts().map((m) => m.target);
        const data = this.record.components.filter((d) => d.role === 'data');
        const compute = c.role === 'executable' ? this.record.components.filter((x) => x.role === 'compute') : [];
        return [...new Set([...mounted, ...data, ...compute])];
      }
      default:
        return [];
    }
  }
}

export const graphOf = (record: Pick<ExecutionRecord, 'components'>) => new ComponentGraph(record);
