import { Kinds } from '@eb/schema';
import type { PlatformAbilities } from '@eb/db';
import type { StagingSettings } from '../../staging/stager.js';
import { publicSources } from '../../staging/sources.js';
import { stageableKinds } from '../../staging/kinds/index.js';

/** Docker keeps stdout and stderr apart and applies any label; it stages HTTP data into its storage. */
export function dockerAbilities(staging: StagingSettings): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer],
    dataKinds: stageableKinds(staging.sources),
    outputs: ['stdout', 'stderr'],
    labels: 'docker',
    sources: publicSources(staging.sources),
  };
}
