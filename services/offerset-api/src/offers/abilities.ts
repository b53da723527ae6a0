import { Kinds, type KindUri } from '@eb/schema';
import type { PlatformConfig } from '@eb/core';
import type { PlatformAbilities } from './check.js';

const allData: KindUri[] = [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData];

/** CPU architectures a real platform's nodes run (EB_PLATFORM_ARCHITECTURES, comma separated; default amd64). */
function architectures(): string[] {
  return (process.env.EB_PLATFORM_ARCHITECTURES ?? 'amd64').split(',').map((a) => a.trim().toLowerCase()).filter(Boolean);
}

/** The simulated platform pretends to run anything; real platforms list what their adapter handles. */
export function abilitiesOf(p: PlatformConfig): PlatformAbilities {
  const capacity = { cores: p.cores, memoryGib: p.memoryGib, storageGib: p.storageGib };
  const base = { name: p.name, capacity };
  switch (p.type) {
    // Docker keeps stdout and stderr apart; a pod's log and a Skaha session's log are one stream.
    case 'docker':
      return {
        ...base, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout', 'stderr'], labels: 'docker',
        mounts: true, architectures: architectures()
      };
    case 'kubernetes':
      return {
        ...base, executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout'], labels: 'kubernetes',
        mounts: true, architectures: architectures()
      };
    // Skaha sessions run images on CANFAR's own storage: the broker makes no storage and stages no data there.
    case 'skaha':
      return {
        ...base, executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook], dataKinds: [], outputs: ['stdout'], labels: 'none',
        mounts: false, architectures: architectures()
      };
    default:
      return {
        ...base, executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook], dataKinds: allData,
        outputs: ['stdout', 'stderr'], labels: 'docker', mounts: true
      };
  }
}
