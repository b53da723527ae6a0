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
}

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
  };
}
