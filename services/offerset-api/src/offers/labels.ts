import { Kinds, RESERVED_LABEL_PREFIX, message, type DockerContainer, type LifecycleComponent, type MessageItem } from '@eb/schema';

import type { LabelSyntax } from '@eb/db';

// Bounds that keep a request's labels a label set, not a data store.
const MAX_LABELS = 64;
const MAX_NAME = 253;
const MAX_VALUE = 1024;

// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
const K8S_SEGMENT = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const K8S_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const reserved = (name: string) => message('urn:reserved-label', 'ERROR',
  'DockerContainer - the label name [{name}] is reserved: names beginning [{prefix}] belong to the service', { name, prefix: RESERVED_LABEL_PREFIX });
const invalid = (name: string, reason: string) => message('urn:invalid-value', 'ERROR',
  'DockerContainer - the label [{name}] cannot be applied: {reason}', { name, reason });

/** Why Kubernetes would refuse this label, if it would. */
function kubernetesProblem(name: string, value: string): string | undefined {
  const slash = name.lastIndexOf('/');
  const prefix = slash >= 0 ? name.slice(0, slash) : undefined;
  const segment = slash >= 0 ? name.slice(slash + 1) : name;
  if (segment.length > 63 || !K8S_SEGMENT.test(segment)) return 'a Kubernetes label name is at most 63 letters, digits, -, _ or . (beginning and ending alphanumeric), after an optional DNS prefix and /';
  if (prefix !== undefined && (prefix.length > 253 || !K8S_PREFIX.test(prefix))) return 'its prefix is not a DNS subdomain';
  if (prefix !== undefined && /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix)) return 'the kubernetes.io and k8s.io prefixes are reserved by Kubernetes';
  if (value !== '' && (value.length > 63 || !K8S_SEGMENT.test(value))) return 'a Kubernetes label value is empty or at most 63 letters, digits, -, _ or . (beginning and ending alphanumeric)';
  return undefined;
}

/**
 * Checks a container's labels (schema 1.0.8) before any offer is made: reserved names are refused
 * (`urn:reserved-label`), and so is what the platform could not apply (`urn:invalid-value`,
 * `urn:not-supported`), rather than failing or dropping them later.
 */
export function checkLabels(exe: LifecycleComponent | undefined, syntax: LabelSyntax, platform: string): MessageItem[] {
  if (!exe || exe.kind !== Kinds.dockerContainer) return [];
  const labels = (exe as DockerContainer).labels ?? {};
  const entries = Object.entries(labels);
  if (entries.length === 0) return [];
  if (syntax === 'none') {
    return [message('urn:not-supported', 'ERROR', 'DockerContainer - labels are not supported on the {platform} platform', { platform })];
  }
  if (entries.length > MAX_LABELS) return [invalid(`${entries.length} labels`, `at most ${MAX_LABELS} labels are accepted`)];
  const out: MessageItem[] = [];
  for (const [name, value] of entries) {
    if (name.startsWith(RESERVED_LABEL_PREFIX)) { out.push(reserved(name)); continue; }
    // Control characters (NUL included) fit in no platform's labels and only hide things in logs.
    if (name === '' || name.length > MAX_NAME || /\p{Cc}/u.test(name)) { out.push(invalid(name.slice(0, 64), `a label name is 1 to ${MAX_NAME} printable characters`)); continue; }
    if (value.length > MAX_VALUE || /\p{Cc}/u.test(value)) { out.push(invalid(name, `a label value is at most ${MAX_VALUE} printable characters`)); continue; }
    const k8s = syntax === 'kubernetes' ? kubernetesProblem(name, value) : undefined;
    if (k8s) out.push(invalid(name, k8s));
  }
  return out;
}
