// Schema 1.0.8 container labels: names with this prefix are the service's own (upstream's rule).
export const RESERVED_LABEL_PREFIX = 'calycopis-broker-';

/** The labels the service puts on what it runs, so an operator can find them by session and resource. */
export const BrokerLabel = {
  session: `${RESERVED_LABEL_PREFIX}session-uid`,
  resource: `${RESERVED_LABEL_PREFIX}resource-uid`,
  kind: `${RESERVED_LABEL_PREFIX}resource-kind`,
  role: `${RESERVED_LABEL_PREFIX}container-role`,
} as const;

export type ContainerRole = 'execution' | 'data-download';

/** The short name of a kind URI (`.../kinds/executable/docker-container.yaml` -> `docker-container`), valid as a label value anywhere. */
export function shortKind(kind: string): string {
  return (kind.split('/').pop() ?? kind).replace(/\.yaml$/, '').replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63);
}
