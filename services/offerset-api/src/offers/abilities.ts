import { Kinds, type KindUri } from '@eb/schema';
import type { PlatformConfig } from '@eb/core';
import type { PlatformAbilities } from './check.js';

const allData: KindUri[] = [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData];

/** The simulated platform pretends to run anything; real platforms list what their adapter handles. */
export function abilitiesOf(p: PlatformConfig): PlatformAbilities {
  if (p.type === 'docker') return { name: p.name, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData] };
  return {
    name: p.name,
    executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook],
    dataKinds: allData,
  };
}
