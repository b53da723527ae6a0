/** What matching needs of a configured source (its public description will do). */
export interface SourceRef {
  name: string;
  endpoint?: string;
  templates?: string[];
}

const trim = (u: string) => u.replace(/\/+$/, '');

/**
 * The configured S3 source a request's S3DataResource means: the one whose endpoint (or name) it gives,
 * or whose URL template it gives, or the only one there is when it gives neither. Undefined when none
 * matches: the endpoint a request names is never contacted unless the operator configured it.
 */
export function matchS3Source<T extends SourceRef>(spec: { endpoint?: unknown; template?: unknown }, sources: readonly T[]): T | undefined {
  if (typeof spec.endpoint === 'string' && spec.endpoint !== '') {
    return sources.find((s) => (s.endpoint !== undefined && trim(s.endpoint) === trim(spec.endpoint as string)) || s.name === spec.endpoint);
  }
  if (typeof spec.template === 'string' && spec.template !== '') {
    return sources.find((s) => (s.templates ?? []).includes(spec.template as string));
  }
  return sources.length === 1 ? sources[0] : undefined;
}

/**
 * The configured source of a service (Rucio, SRCNet data management) a request means: the one whose
 * endpoint or name it gives, or the only one there is when it gives none.
 */
export function matchServiceSource<T extends SourceRef>(endpoint: unknown, sources: readonly T[]): T | undefined {
  if (typeof endpoint === 'string' && endpoint !== '') {
    return sources.find((s) => (s.endpoint !== undefined && trim(s.endpoint) === trim(endpoint)) || s.name === endpoint);
  }
  return sources.length === 1 ? sources[0] : undefined;
}
