import { Kinds } from '@eb/schema';
import type { PlatformAbilities } from '@eb/db';
import { nodeArchitectures } from '../architectures.js';
import type { StagingSettings } from '../../staging/stager.js';
import { publicSources } from '../../staging/sources.js';
import { stageableKinds } from '../../staging/kinds/index.js';

/** A pod's log is one stream (given back as stdout); labels follow Kubernetes' syntax. */
export function kubernetesAbilities(staging: StagingSettings, notebookImage?: string): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer, ...(notebookImage ? [Kinds.jupyterNotebook] : [])],
    dataKinds: stageableKinds(staging.sources),
    outputs: ['stdout', ...(notebookImage ? ['notebook' as const] : [])],
    labels: 'kubernetes',
    sources: publicSources(staging.sources),
    mounts: true,
    headlessNotebooks: !!notebookImage,
    architectures: nodeArchitectures(),
  };
}
