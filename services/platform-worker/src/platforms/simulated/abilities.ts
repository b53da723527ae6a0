import { Kinds } from '@eb/schema';
import type { DataSourceInfo, PlatformAbilities } from '@eb/db';

/** The simulated platform pretends to run and stage anything (it runs nothing). */
export function simulatedAbilities(sources: DataSourceInfo[] = []): PlatformAbilities {
  return {
    executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook],
    dataKinds: [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData],
    outputs: ['stdout', 'stderr'],
    labels: 'docker',
    sources,
    mounts: true,
    headlessNotebooks: true,
  };
}
