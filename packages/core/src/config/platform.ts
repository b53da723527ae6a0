import { envDurationMs, envInt, envString } from './env.js';

export const PLATFORM_TYPES = ['simulated', 'docker', 'kubernetes', 'skaha'] as const;
export type PlatformType = (typeof PLATFORM_TYPES)[number];

/** The platform this broker books on, with its declared capacity and preparation estimates. */
export interface PlatformConfig {
  name: string;
  type: PlatformType;
  cores: number;
  memoryGib: number;
  storageGib: number;
  prepareMs: number;
  releaseMs: number;
  /** Capacity given in the environment, as opposed to the defaults above. */
  configured: { cores?: number; memoryGib?: number };
  /** How far a platform backed by an engine may promise beyond what the engine has (EB_CAPACITY_OVERCOMMIT). */
  overcommit: number;
}

/** Platforms whose worker declares their capacity from the engine it drives, not from configuration alone. */
export const declaresOwnCapacity = (type: PlatformType): boolean => type === 'docker';

export function platformConfig(): PlatformConfig {
  const type = envString('EB_PLATFORM', 'simulated') as PlatformType;
  if (!PLATFORM_TYPES.includes(type)) throw new Error(`EB_PLATFORM must be one of ${PLATFORM_TYPES.join(', ')}, not '${type}'`);
  return {
    name: process.env.EB_PLATFORM_NAME ?? type,
    type,
    cores: envInt('EB_CAPACITY_CORES', 16),
    memoryGib: envInt('EB_CAPACITY_MEMORY_GIB', 64),
    storageGib: envInt('EB_CAPACITY_STORAGE_GIB', 1000),
    prepareMs: envDurationMs('EB_PREPARE_ESTIMATE', 'PT30S'),
    releaseMs: envDurationMs('EB_RELEASE_ESTIMATE', 'PT10S'),
    configured: {
      ...(process.env.EB_CAPACITY_CORES ? { cores: envInt('EB_CAPACITY_CORES', 0) } : {}),
      ...(process.env.EB_CAPACITY_MEMORY_GIB ? { memoryGib: envInt('EB_CAPACITY_MEMORY_GIB', 0) } : {}),
    },
    overcommit: overcommitFactor(),
  };
}

function overcommitFactor(): number {
  const f = envInt('EB_CAPACITY_OVERCOMMIT', 1);
  if (!(f >= 1)) throw new Error(`EB_CAPACITY_OVERCOMMIT must be a number of at least 1, not '${process.env.EB_CAPACITY_OVERCOMMIT}'`);
  return f;
}
