import { Kinds } from '@eb/schema';
import type { PlatformAbilities } from '@eb/db';
import { nodeArchitectures } from '../architectures.js';
import type { SkahaSettings } from './config.js';

/**
 * Skaha sessions run containers and notebooks on CANFAR's own storage; labels cannot be applied there.
 * Data-lake files (SKAO and Rucio DIDs) are staged into the user's home by the prepare-data gatekeeper,
 * when one is configured.
 */
export function skahaAbilities(s: Pick<SkahaSettings, 'prepareDataUrl'>): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook],
    dataKinds: s.prepareDataUrl ? [Kinds.skaoData, Kinds.rucioData] : [],
    outputs: ['stdout'],
    labels: 'none',
    sources: [],
    // Sessions use CANFAR's own storage: the broker makes no storage and mounts none there.
    mounts: false,
    // A notebook there is a notebook session.
    headlessNotebooks: false,
    architectures: nodeArchitectures(),
  };
}
