import { createHash } from 'node:crypto';
import { Kinds, type DataResource } from '@eb/schema';
import { didNameProblem, safeFileName, scopeProblem } from '@eb/core';
import type { ComponentRow } from '@eb/db';
import { PermanentPlatformError } from '../adapter.js';

/** One row of the gatekeeper's request: the DID, its path in the storage element, where it goes in the user's home. */
export type PrepareDataRow = [did: string, pathInRse: string, destination: string];

interface Did {
  namespace: string;
  name: string;
  /** Replica URLs the request lists (SKAO), whose path is the file's path in its storage element. */
  replicas: string[];
}

function didOf(c: ComponentRow): Did {
  if (c.kind === Kinds.skaoData) {
    const s = ((c.spec as DataResource & { skao?: { namespace?: string; objectname?: string; replicas?: { dataurl?: string }[] } }).skao ?? {});
    return { namespace: s.namespace ?? '', name: s.objectname ?? '', replicas: (s.replicas ?? []).map((r) => r.dataurl).filter((u): u is string => typeof u === 'string') };
  }
  const r = ((c.spec as DataResource & { rucio?: { scope?: string; object?: string } }).rucio ?? {});
  return { namespace: r.scope ?? '', name: r.object ?? '', replicas: [] };
}

/**
 * The file's path in the storage element: the path of a replica URL the request lists, else Rucio's
 * deterministic layout (scope/aa/bb/name, aa and bb the first hex digits of md5("scope:name")).
 */
function pathInRse(d: Did): string {
  for (const r of d.replicas) {
    try {
      const path = decodeURIComponent(new URL(r).pathname).replace(/^\/+/, '');
      if (path && !path.split('/').some((s) => s === '..' || s === '.')) return path;
    } catch {
      // Not a URL: use the layout.
    }
  }
  const md5 = createHash('md5').update(`${d.namespace}:${d.name}`).digest('hex');
  return `${d.namespace}/${md5.slice(0, 2)}/${md5.slice(2, 4)}/${d.name}`;
}

/** The gatekeeper's row for a data component, its destination under `dir` (relative to the user's home). */
export function prepareDataRow(c: ComponentRow, dir: string): { row: PrepareDataRow; file: string } {
  const d = didOf(c);
  const problem = scopeProblem(d.namespace) ?? didNameProblem(d.name);
  if (problem) throw new PermanentPlatformError(problem);
  const file = safeFileName(d.name.split('/').pop(), 'data');
  return { row: [`${d.namespace}:${d.name}`, pathInRse(d), `${dir}/${file}`], file };
}
