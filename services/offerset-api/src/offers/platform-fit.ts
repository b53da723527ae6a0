import { Kinds, message, type DockerContainer, type MessageItem } from '@eb/schema';
import type { RequestTree } from './request-tree.js';

/** What of a request a platform can honour beyond its kinds. */
export interface PlatformFit {
  name: string;
  /** Whether it makes storage and mounts it (Skaha does neither: sessions use CANFAR's own storage). */
  mounts: boolean;
  /** The CPU architectures its nodes run; undefined: any (simulated). */
  architectures?: readonly string[];
  /** Whether it runs a JupyterNotebook headless (a batch run keeping the executed notebook). */
  headlessNotebooks?: boolean;
}

const notSupported = (template: string, values: Record<string, string>) => message('urn:not-supported', 'ERROR', template, values);

/**
 * Things a platform cannot do, refused before any offer is made rather than accepted and then failing
 * or silently dropped: storage and mounts where there are none, images built for another OS or CPU.
 * (Names, paths, ports and privileges any platform would refuse are checked in safety.ts.)
 */
export function checkPlatformFit(tree: RequestTree, p: PlatformFit): MessageItem[] {
  const out: MessageItem[] = [];
  if (!p.mounts) {
    if (tree.storage.length) out.push(notSupported('Storage resources are not supported on the {platform} platform', { platform: p.name }));
    if (tree.compute?.volumes?.length) out.push(notSupported('Volume mounts are not supported on the {platform} platform', { platform: p.name }));
  }
  const exe = tree.executable;
  if (exe?.kind === Kinds.jupyterNotebook && !tree.interactive && !p.headlessNotebooks) {
    out.push(notSupported('JupyterNotebook - headless runs (interactive: false) are not supported on the {platform} platform', { platform: p.name }));
  }
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
  return out;
}
