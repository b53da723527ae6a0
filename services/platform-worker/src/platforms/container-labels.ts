import { BrokerLabel, RESERVED_LABEL_PREFIX, shortKind, type ContainerRole, type DockerContainer } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';

/**
 * The labels on a container or pod (schema 1.0.8): the client's own, for the executable (checked when
 * the offer was made), then the service's, which name the session, the resource, its kind and what the
 * container is for. Reserved names never come from the client.
 */
export function containerLabels(record: ExecutionRecord, c: ComponentRow, role: ContainerRole): Record<string, string> {
  const asked = role === 'execution' ? (c.spec as DockerContainer).labels ?? {} : {};
  const own = Object.fromEntries(Object.entries(asked).filter(([name]) => !name.startsWith(RESERVED_LABEL_PREFIX)));
  return {
    ...own,
    [BrokerLabel.session]: record.execution.uuid,
    [BrokerLabel.resource]: c.uuid,
    [BrokerLabel.kind]: shortKind(c.kind),
    [BrokerLabel.role]: role,
  };
}
