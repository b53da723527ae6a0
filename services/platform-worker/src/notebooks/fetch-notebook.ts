import { readFile } from 'node:fs/promises';
import type { MessageItem } from '@eb/schema';
import { download } from '../staging/download.js';
import { shownUrl } from '../staging/names.js';
import type { StagingSettings } from '../staging/stager.js';

/** A notebook larger than this is not a notebook the broker runs (nor keeps: see the output table). */
export const MAX_NOTEBOOK_BYTES = 16 * 2 ** 20;

export class NotebookRefused extends Error {
  constructor(msg: string, readonly messages: MessageItem[] = []) { super(msg); }
}

/**
 * Fetches a JupyterNotebook's `location` into `dir` as input.ipynb, under the egress policy like any
 * data, and checks that it is an nbformat 4 notebook (JSON with a list of cells).
 */
export async function fetchNotebook(location: unknown, dir: string, s: StagingSettings, signal?: AbortSignal): Promise<{ path: string; messages: MessageItem[] }> {
  if (typeof location !== 'string' || !location) throw new NotebookRefused('the notebook has no location');
  const r = await download({ url: location, shownUrl: shownUrl(location), file: 'input.ipynb', checksums: [] }, dir, {
    policy: s.policy, attempts: s.attempts, maxBytes: MAX_NOTEBOOK_BYTES, ...(s.backoffMs !== undefined ? { backoffMs: s.backoffMs } : {}), ...(signal ? { signal } : {}),
  });
  let nb: { nbformat?: unknown; cells?: unknown };
  try {
    nb = JSON.parse(await readFile(r.path, 'utf8')) as typeof nb;
  } catch {
    throw new NotebookRefused(`${shownUrl(location)} is not a notebook (not JSON)`, r.messages);
  }
  if (nb?.nbformat !== 4 || !Array.isArray(nb.cells)) throw new NotebookRefused(`${shownUrl(location)} is not an nbformat 4 notebook`, r.messages);
  return { path: r.path, messages: r.messages };
}
