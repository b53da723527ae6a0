import { canonicalKind, message, openapiDocument, type MessageItem } from '@eb/schema';

/** The kinds the spec knows in each place a request may hold a component (its discriminator mappings). */
function knownKinds(schema: string): Set<string> {
  const d = openapiDocument.components.schemas[schema]?.discriminator as { mapping?: Record<string, string> } | undefined;
  return new Set(Object.keys(d?.mapping ?? {}));
}

const SLOTS = {
  executable: knownKinds('AbstractExecutable'),
  compute: knownKinds('AbstractComputeResource'),
  volume: knownKinds('AbstractVolumeMount'),
  storage: knownKinds('AbstractStorageResource'),
  data: knownKinds('AbstractDataResource'),
  cost: knownKinds('AbstractCostItem'),
  metric: knownKinds('AbstractMetricItem'),
};

// A kind that is a URI but not one the spec names is an unknown type; anything else is left to the schema.
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Takes out of a request the components whose kind is a URI the spec does not know, answering each
 * as upstream does (`uri:unknown-type`, "Unknown kind [...]"), so the rest can still be validated and
 * reported on. Works on the parsed body, before schema validation.
 */
export function takeUnknownKinds(body: unknown): MessageItem[] {
  if (!isObj(body)) return [];
  const out: MessageItem[] = [];
  const unknown = (v: unknown, known: Set<string>, path: string): boolean => {
    if (!isObj(v) || typeof v.kind !== 'string' || !URI.test(v.kind)) return false;
    const kind = canonicalKind(v.kind);
    if (known.has(kind)) return false;
    out.push(message('uri:unknown-type', 'ERROR', 'Unknown kind [{kind}] at [{path}]', { kind: v.kind, path }));
    return true;
  };
  const single = (obj: Obj, key: string, known: Set<string>, path: string) => {
    if (unknown(obj[key], known, path)) delete obj[key];
  };
  const list = (obj: Obj, key: string, known: Set<string>, path: string) => {
    const items = obj[key];
    if (Array.isArray(items)) obj[key] = items.filter((v, i) => !unknown(v, known, `${path}[${i}]`));
  };
  single(body, 'executable', SLOTS.executable, 'executable');
  single(body, 'compute', SLOTS.compute, 'compute');
  if (isObj(body.compute)) {
    list(body.compute, 'volumes', SLOTS.volume, 'compute.volumes');
    list(body.compute, 'costs', SLOTS.cost, 'compute.costs');
    list(body.compute, 'metrics', SLOTS.metric, 'compute.metrics');
  }
  list(body, 'storage', SLOTS.storage, 'storage');
  list(body, 'data', SLOTS.data, 'data');
  list(body, 'costs', SLOTS.cost, 'costs');
  list(body, 'metrics', SLOTS.metric, 'metrics');
  return out;
}
