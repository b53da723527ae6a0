import { Kinds, type KindUri } from '@eb/schema';
import type { PlatformConfig } from '@eb/core';
import type { PlatformAbilities } from './check.js';

const allData: KindUri[] = [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData];

/** The simulated platform pretends to run anything; real platforms list what their adapter handles. */
export function abilitiesOf(p: PlatformConfig): PlatformAbilities {
  if (p.type === 'docker' || p.type === 'kubernetes') return { name: p.name, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData] };
  // Skaha sessions run images on CANFAR's own storage; the broker stages no data there.
  if (p.type === 'skaha') return { name: p.name, executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook], dataKinds: [] };
  return {
    name: p.name,
    executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook],
    dataKinds: allData,
  };
}
