import { Kinds, message, type DockerContainer, type MessageItem } from '@eb/schema';
import type { RequestTree } from './request-tree.js';

/** What of a request a platform can honour beyond its kinds. */
export interface PlatformFit {
  name: string;
  /** Whether it makes storage and mounts it (Skaha does neither: sessions use CANFAR's own storage). */
  mounts: boolean;
  /** The CPU architectures its nodes run; undefined: any (simulated). */
  architectures?: readonly string[];
  /** Environment variable names it can pass: POSIX-like (no '=' or NUL), or Kubernetes' stricter rule. */
  envNames: 'posix' | 'kubernetes';
}

const notSupported = (template: string, values: Record<string, string>) => message('urn:not-supported', 'ERROR', template, values);
const invalid = (path: string, value: string, reason: string) =>
  message('urn:invalid-value', 'ERROR', 'Invalid value [{value}] for [{path}]: {reason}', { path, value, reason });

// Kubernetes: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#environment-variables
const K8S_ENV = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Things a platform cannot do, refused before any offer is made rather than accepted and then failing
 * or silently dropped: storage and mounts where there are none, images built for another OS or CPU,
 * environment names the platform cannot pass.
 */
export function checkPlatformFit(tree: RequestTree, p: PlatformFit): MessageItem[] {
  const out: MessageItem[] = [];
  if (!p.mounts) {
    if (tree.storage.length) out.push(notSupported('Storage resources are not supported on the {platform} platform', { platform: p.name }));
    if (tree.compute?.volumes?.length) out.push(notSupported('Volume mounts are not supported on the {platform} platform', { platform: p.name }));
  }
  const exe = tree.executable;
  if (exe?.kind !== Kinds.dockerContainer) return out;
  const docker = exe as DockerContainer;
  const image = docker.image?.platform;
  if (p.architectures && image?.os !== undefined && image.os.toLowerCase() !== 'linux') {
    out.push(notSupported('DockerContainer - images for [{os}] cannot run on the {platform} platform (linux only)', { os: image.os, platform: p.name }));
  }
  if (p.architectures && image?.architecture !== undefined && !p.architectures.includes(image.architecture.toLowerCase())) {
    out.push(notSupported('DockerContainer - images for [{architecture}] cannot run on the {platform} platform ({supported})', {
      architecture: image.architecture, platform: p.name, supported: p.architectures.join(', '),
    }));
  }
  for (const name of Object.keys(docker.environment ?? {})) {
    const shown = name.slice(0, 64);
    if (name === '' || name.includes('=') || /\p{Cc}/u.test(name)) out.push(invalid('executable.environment', shown, 'an environment variable name has no "=" or control characters'));
    else if (p.envNames === 'kubernetes' && !K8S_ENV.test(name)) out.push(invalid('executable.environment', shown, 'Kubernetes takes letters, digits, "-", "_" and "." (not starting with a digit)'));
  }
  return out;
}
