import { Kinds } from '@eb/schema';
import type { PlatformAbilities } from '@eb/db';
import { nodeArchitectures } from '../architectures.js';
import type { StagingSettings } from '../../staging/stager.js';
import { publicSources } from '../../staging/sources.js';
import { stageableKinds } from '../../staging/kinds/index.js';

/**
 * Docker keeps stdout and stderr apart and applies any label; it stages every data kind whose service
 * is configured into its storage, and runs notebooks when a notebook image is configured.
 */
export function dockerAbilities(staging: StagingSettings, notebookImage?: string): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer, ...(notebookImage ? [Kinds.jupyterNotebook] : [])],
    dataKinds: stageableKinds(staging.sources),
    outputs: ['stdout', 'stderr', ...(notebookImage ? ['notebook' as const] : [])],
    labels: 'docker',
    sources: publicSources(staging.sources),
    mounts: true,
    headlessNotebooks: !!notebookImage,
    architectures: nodeArchitectures(),
  };
}
