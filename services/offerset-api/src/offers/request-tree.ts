import {
  Kinds, parseDuration, parseInterval, type DataResource, type ExecutionRequest, type LifecycleComponent,
  type SimpleComputeResource, type SimpleStorageResource, type TimeInterval, type DockerContainer,
} from '@eb/schema';
import { linkStorage, type StorageLinks } from './links.js';

/** The request as the planner sees it: defaults filled in, sizes resolved, references kept by name. */
export interface RequestTree {
  executable?: LifecycleComponent;
  compute?: SimpleComputeResource;
  storage: SimpleStorageResource[];
  data: DataResource[];
  cores: { min: number; max: number };
  memoryGib: { min: number; max: number };
  storageGib: number;
  /** The size promised for each storage component, in GiB. */
  storageSizes: number[];
  durationMs: number;
  /** Allowed start intervals; empty means "as soon as possible". */
  startWindows: TimeInterval[];
  interactive: boolean;
  /**
   * Whether the execution may start before its booked start when capacity frees up (never before its
   * window): `schedule.requested.earlyStart` (a broker extension) when given; otherwise batch yes,
   * interactive no (a session's owner expects it at the time they accepted).
   */
  earlyStart: boolean;
  /** How data, storage and volume mounts refer to each other (storage includes what was made for data). */
  links: StorageLinks;
  /** Problems found while reading the request, reported as result NO. */
  invalid: { path: string; value: string; reason: string }[];
}

export interface TreeDefaults {
  durationMs: number;
  cores: number;
  memoryGib: number;
  storageGib: number;
  /** The size of a storage made for a data resource that names none and does not say its size. */
  dataStorageGib: number;
}

function range(given: { min?: number; max?: number } | undefined, fallback: number) {
  const min = given?.min ?? Math.min(fallback, given?.max ?? fallback);
  const max = given?.max ?? min;
  return { min, max };
}

/**
 * A notebook is a session unless its request says `executable.interactive: false` (a broker extension:
 * upstream has no headless notebook), which runs it headless and keeps the executed notebook.
 */
function isInteractive(executable: LifecycleComponent | undefined): boolean {
  if (!executable) return false;
  if (executable.kind === Kinds.jupyterNotebook) return (executable as { interactive?: unknown }).interactive !== false;
  if (executable.kind === Kinds.dockerContainer) {
    return ((executable as DockerContainer).network?.ports ?? []).some((p) => p.access === true);
  }
  return false;
}

export function buildRequestTree(req: ExecutionRequest, defaults: TreeDefaults): RequestTree {
  const invalid: RequestTree['invalid'] = [];
  const requested = req.schedule?.requested;
  let durationMs = defaults.durationMs;
  if (requested?.duration !== undefined) {
    const d = parseDuration(requested.duration);
    if (d === undefined || d <= 0) invalid.push({ path: 'schedule.requested.duration', value: requested.duration, reason: 'must be a positive ISO 8601 duration' });
    else durationMs = d;
  }
  const startWindows: TimeInterval[] = [];
  if (requested?.start !== undefined) {
    const w = parseInterval(requested.start);
    if (!w) invalid.push({ path: 'schedule.requested.start', value: requested.start, reason: 'must be an ISO 8601 interval' });
    else startWindows.push(w);
  }
  const early = (requested as { earlyStart?: unknown } | undefined)?.earlyStart;
  if (early !== undefined && typeof early !== 'boolean') {
    invalid.push({ path: 'schedule.requested.earlyStart', value: String(early), reason: 'must be true or false' });
  }
  const asked = (req.executable as { interactive?: unknown } | undefined)?.interactive;
  if (asked !== undefined && (typeof asked !== 'boolean' || req.executable?.kind !== Kinds.jupyterNotebook)) {
    invalid.push({ path: 'executable.interactive', value: String(asked), reason: 'only a JupyterNotebook may say, true or false' });
  }
  const links = linkStorage(req, defaults.dataStorageGib);
  const storage = links.storage;
  const cores = range(req.compute?.cores, defaults.cores);
  const memoryGib = range(req.compute?.memory, defaults.memoryGib);
  for (const [path, r] of [['compute.cores', cores], ['compute.memory', memoryGib]] as const) {
    if (r.min < 1) invalid.push({ path: `${path}.min`, value: String(r.min), reason: 'must be at least 1' });
    if (r.max < r.min) invalid.push({ path: `${path}.max`, value: String(r.max), reason: `must not be less than min (${r.min})` });
  }
  const storageSizes = storage.map((s) => s.size?.min ?? defaults.storageGib);
  const storageGib = storageSizes.reduce((sum, n) => sum + n, 0);
  return {
    ...(req.executable ? { executable: req.executable } : {}),
    ...(req.compute ? { compute: req.compute } : {}),
    storage,
    data: req.data ?? [],
    cores,
    memoryGib,
    storageGib,
    storageSizes,
    durationMs,
    startWindows,
    interactive: isInteractive(req.executable),
    earlyStart: typeof early === 'boolean' ? early : !isInteractive(req.executable),
    links,
    invalid,
  };
}
