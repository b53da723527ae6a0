import type { PlatformCapacity } from '@eb/db';
import type { PlatformConfig } from './platform.js';

/** What a container engine says it has (e.g. `docker info`: NCPU, MemTotal). */
export interface EngineCapacity {
  cores: number;
  memoryBytes: number;
}

const GiB = 1024 ** 3;

/**
 * The capacity a platform backed by an engine may declare: the engine's own figures unless capacity is
 * configured, and never more than the engine has, times the overcommit factor (1 unless set).
 */
export function capacityWithinEngine(config: PlatformConfig, engine: EngineCapacity): PlatformCapacity {
  const cores = Math.floor(engine.cores * config.overcommit);
  const memoryGib = Math.floor((engine.memoryBytes / GiB) * config.overcommit);
  return {
    name: config.name,
    cores: Math.min(config.configured.cores ?? cores, cores),
    memoryGib: Math.min(config.configured.memoryGib ?? memoryGib, memoryGib),
    storageGib: config.storageGib,
  };
}
