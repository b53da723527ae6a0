import { message, type MessageItem } from '@eb/schema';
import type { RequestTree } from './request-tree.js';

export interface Capacity {
  cores: number;
  memoryGib: number;
  storageGib: number;
}

/**
 * What the platform has at all, as upstream answers it: a minimum beyond it can never be met
 * (`urn:resource-limit`, ERROR); a maximum beyond it is lowered to it, with a warning. What is free at
 * a given time is the planner's business.
 */
export function applyResourceLimits(tree: RequestTree, capacity: Capacity): MessageItem[] {
  const out: MessageItem[] = [];
  const dims = [['compute.cores', 'cores', tree.cores, capacity.cores, ''], ['compute.memory', 'memory', tree.memoryGib, capacity.memoryGib, ' GiB']] as const;
  for (const [path, what, wanted, available, units] of dims) {
    if (wanted.min > available) {
      out.push(message('urn:resource-limit', 'ERROR', 'The minimum {what} [{min}{units}] at [{path}] is more than the platform has [{available}{units}]', {
        what, min: wanted.min, available, path, units,
      }));
    } else if (wanted.max > available) {
      out.push(message('urn:resource-limit', 'WARN', 'The maximum {what} [{max}{units}] at [{path}] is more than the platform has; offers give at most [{available}{units}]', {
        what, max: wanted.max, available, path, units,
      }));
      wanted.max = available;
    }
  }
  if (tree.storageGib > capacity.storageGib) {
    out.push(message('urn:resource-limit', 'ERROR', 'The storage asked for [{size} GiB] is more than the platform has [{available} GiB]', {
      size: tree.storageGib, available: capacity.storageGib,
    }));
  }
  return out;
}
