import { Kinds, type KindUri } from '@eb/schema';
import type { PlatformConfig } from '@eb/core';
import type { PlatformAbilities } from './check.js';

const allData: KindUri[] = [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData];

/** The simulated platform pretends to run anything; real platforms list what their adapter handles. */
export function abilitiesOf(p: PlatformConfig): PlatformAbilities {
  // Docker keeps stdout and stderr apart; a pod's log and a Skaha session's log are one stream.
  if (p.type === 'docker') return { name: p.name, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout', 'stderr'], labels: 'docker' };
  if (p.type === 'kubernetes') return { name: p.name, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout'], labels: 'kubernetes' };
  // Skaha sessions run images on CANFAR's own storage; the broker stages no data there.
  if (p.type === 'skaha') return { name: p.name, executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook], dataKinds: [], outputs: ['stdout'], labels: 'none' };
  return {
    name: p.name,
    executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook],
    dataKinds: allData,
    outputs: ['stdout', 'stderr'],
    labels: 'docker',
  };
}
