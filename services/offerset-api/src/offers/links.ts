import {
  Kinds, message, type AbstractComponent, type DataResource, type ExecutionRequest, type MessageItem,
  type SimpleStorageResource,
} from '@eb/schema';
import type { NewComponent } from '@eb/db';

const GiB = 2 ** 30;

/** A component of the request that another one refers to: which list it is in, and where. */
export interface Target {
  role: 'storage' | 'data';
  index: number;
}

/**
 * How the request's components refer to each other, resolved once (by `meta.name` or by the
 * `meta.uuid` a client gave), so each offer can write its own components' UUIDs into the references.
 */
export interface StorageLinks {
  /** The request's storage, then one storage made for each data resource that names none. */
  storage: SimpleStorageResource[];
  /** For each data resource, the index in `storage` of the storage it is staged into. */
  dataStorage: number[];
  /** For each volume mount, what it mounts. */
  volumeTargets: (Target | undefined)[];
  /** References that name nothing, or more than one thing, in the request. */
  problems: MessageItem[];
}

const notFound = (path: string, reference: string, role: string) =>
  message('urn:resource-not-found', 'ERROR', 'No {role} [{reference}] for [{path}]', { path, reference, role });
const ambiguous = (path: string, reference: string) =>
  message('urn:invalid-value', 'ERROR', 'The reference [{reference}] for [{path}] names more than one component', { path, reference });
const conflicting = (path: string, data: string, storage: string) =>
  message('urn:invalid-value', 'ERROR', 'The data [{data}] listed in [{path}] is staged into another storage [{storage}]', { path, data, storage });

const refersTo = (c: AbstractComponent, ref: string) => c.meta?.name === ref || c.meta?.uuid === ref;

/** The size a data resource says it has, in whole GiB, where its kind carries one. */
function declaredGib(d: DataResource): number | undefined {
  const x = d as { skao?: { datasize?: unknown }; ivoa?: { datalink?: { content_length?: unknown } } };
  const bytes = x.skao?.datasize ?? x.ivoa?.datalink?.content_length;
  return typeof bytes === 'number' && bytes > 0 ? Math.max(1, Math.ceil(bytes / GiB)) : undefined;
}

function findOne(list: readonly AbstractComponent[], ref: string): number | 'none' | 'many' {
  const hits = list.flatMap((c, i) => (refersTo(c, ref) ? [i] : []));
  return hits.length === 0 ? 'none' : hits.length > 1 ? 'many' : hits[0]!;
}

/**
 * Resolves storage, data and volume references as the upstream broker does: a data resource goes into
 * the storage it names (or one listing it in `data`), or into a storage made for it, sized as the data
 * says it is or `dataStorageGib`; volume mounts name a storage or a data resource.
 */
export function linkStorage(req: ExecutionRequest, dataStorageGib: number): StorageLinks {
  const storage = [...(req.storage ?? [])];
  const data = req.data ?? [];
  const problems: MessageItem[] = [];
  const dataStorage: (number | undefined)[] = data.map(() => undefined);

  data.forEach((d, i) => {
    if (d.storage === undefined) return;
    const found = findOne(storage, d.storage);
    if (found === 'none') problems.push(notFound(`data[${i}].storage`, d.storage, 'storage'));
    else if (found === 'many') problems.push(ambiguous(`data[${i}].storage`, d.storage));
    else dataStorage[i] = found;
  });
  storage.forEach((s, si) => (s.data ?? []).forEach((ref, k) => {
    const path = `storage[${si}].data[${k}]`;
    const found = findOne(data, ref);
    if (found === 'none') return problems.push(notFound(path, ref, 'data'));
    if (found === 'many') return problems.push(ambiguous(path, ref));
    const already = dataStorage[found];
    if (already !== undefined && already !== si) return problems.push(conflicting(path, ref, storage[already]!.meta?.name ?? String(already)));
    dataStorage[found] = si;
  }));
  data.forEach((d, i) => {
    if (dataStorage[i] !== undefined || d.storage !== undefined) return;
    const size = declaredGib(d) ?? dataStorageGib;
    storage.push({
      kind: Kinds.simpleStorage,
      meta: { name: `${d.meta?.name ?? `data-${i}`}-storage`, description: `Storage for the data [${d.meta?.name ?? i}]` },
      size: { min: size, max: size },
    });
    dataStorage[i] = storage.length - 1;
  });

  const volumeTargets = (req.compute?.volumes ?? []).map((v, i): Target | undefined => {
    if (!v.resource) return undefined;
    const inStorage = findOne(storage, v.resource);
    const inData = findOne(data, v.resource);
    const path = `compute.volumes[${i}].resource`;
    if (inStorage === 'many' || inData === 'many' || (typeof inStorage === 'number' && typeof inData === 'number')) {
      problems.push(ambiguous(path, v.resource));
      return undefined;
    }
    if (typeof inStorage === 'number') return { role: 'storage', index: inStorage };
    if (typeof inData === 'number') return { role: 'data', index: inData };
    problems.push(notFound(path, v.resource, 'storage or data'));
    return undefined;
  });
  return { storage, dataStorage: dataStorage.map((s) => s ?? -1), volumeTargets, problems };
}

/**
 * Writes one offer's component UUIDs into its references: `data.storage`, `storage.data` and
 * `volume.resource` carry UUIDs in responses, whatever the request named them by.
 */
export function applyLinks(links: StorageLinks, c: { storage: NewComponent[]; data: NewComponent[]; volumes: NewComponent[] }): void {
  c.storage.forEach((s) => { s.spec.data = []; });
  c.data.forEach((d, i) => {
    const s = c.storage[links.dataStorage[i]!];
    if (!s) return;
    d.spec.storage = s.uuid;
    (s.spec.data as string[]).push(d.uuid);
  });
  c.storage.forEach((s) => { if ((s.spec.data as string[]).length === 0) delete s.spec.data; });
  c.volumes.forEach((v, i) => {
    const t = links.volumeTargets[i];
    const target = t && (t.role === 'storage' ? c.storage : c.data)[t.index];
    if (target) v.spec.resource = target.uuid;
  });
}
