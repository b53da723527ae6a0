// The `kind` URIs of the 1.0.7 spec. Responses always carry these; requests may also use the
// older `.../EB/schema/v1.0/types/...-1.0` URIs, which are mapped here before validation.
const KINDS_BASE = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds';
const OLD_TYPES_BASE = 'https://www.purl.org/ivoa.net/EB/schema/v1.0/types';

const kind = (path: string) => `${KINDS_BASE}/${path}.yaml`;

export const Kinds = {
  dockerContainer: kind('executable/docker-container'),
  singularityContainer: kind('executable/singularity-container'),
  jupyterNotebook: kind('executable/jupyter-notebook'),
  simpleCompute: kind('compute/simple-compute-resource'),
  simpleStorage: kind('storage/simple-storage-resource'),
  simpleVolumeMount: kind('volume/simple-volume-mount'),
  simpleData: kind('data/simple-data-resource'),
  s3Data: kind('data/S3-data-resource'),
  rucioData: kind('data/rucio-data-resource'),
  ivoaData: kind('data/ivoa-data-resource'),
  skaoData: kind('data/skao-data-resource'),
  simpleSession: kind('session/simple-execution-session'),
  scheduledSession: kind('session/scheduled-execution-session'),
  // Session connectors that give back what the executable printed (upstream's names).
  stdoutConnector: kind('executable/docker-container-stdout-get'),
  stderrConnector: kind('executable/docker-container-stderr-get'),
  // The executed notebook of a JupyterNotebook, following upstream's naming of the output connectors.
  notebookConnector: kind('executable/jupyter-notebook-output-get'),
  // The 1.0.7 spec names no kind for offer sets; this follows its pattern for the other kinds.
  offerSet: kind('offerset/execution-offerset'),
} as const;

export type KindUri = (typeof Kinds)[keyof typeof Kinds];

const aliases = new Map<string, string>();
for (const canonical of Object.values(Kinds)) {
  const path = canonical.slice(KINDS_BASE.length + 1, -'.yaml'.length);
  aliases.set(`${OLD_TYPES_BASE}/${path}-1.0`, canonical);
}

/** Maps an alias URI to its 1.0.7 URI; any other string is returned as it is. */
export function canonicalKind(uri: string): string {
  return aliases.get(uri) ?? uri;
}

type Json = unknown;

function normalizeNode(node: Json): void {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const obj = node as Record<string, unknown>;
    if (typeof obj.kind === 'string') obj.kind = canonicalKind(obj.kind);
  }
}

/**
 * Rewrites alias kinds in place at every place the request schema allows a polymorphic component.
 * Only those places: a `kind` elsewhere (e.g. an update document) is not a component kind.
 */
export function normalizeRequestKinds(request: Json): void {
  if (!request || typeof request !== 'object') return;
  const r = request as Record<string, unknown>;
  normalizeNode(r.executable);
  normalizeNode(r.compute);
  const compute = r.compute as Record<string, unknown> | undefined;
  if (compute && Array.isArray(compute.volumes)) compute.volumes.forEach(normalizeNode);
  for (const list of [r.storage, r.data, r.costs, r.metrics]) {
    if (Array.isArray(list)) list.forEach(normalizeNode);
  }
}
