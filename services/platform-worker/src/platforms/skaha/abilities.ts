import { Kinds } from '@eb/schema';
import type { DataSourceInfo, PlatformAbilities } from '@eb/db';

/** Skaha sessions run containers and notebooks on CANFAR's own storage; labels cannot be applied there. */
export function skahaAbilities(sources: DataSourceInfo[] = []): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook],
    dataKinds: [],
    outputs: ['stdout'],
    labels: 'none',
    sources,
  };
}
