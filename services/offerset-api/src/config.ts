import { egressPolicy, envDurationMs, envInt, envString, platformConfig, type EgressPolicy, type PlatformConfig } from '@eb/core';
import type { OfferSettings } from './offers/build.js';
import type { TreeDefaults } from './offers/request-tree.js';
import { costProfileFromEnv } from './costs/profile.js';
import type { StagingDefaults } from './offers/staging-time.js';

export interface OffersetApiConfig {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  platform: PlatformConfig;
  offers: OfferSettings;
  defaults: TreeDefaults;
  /** Where data may come from (EB_EGRESS_ALLOW / EB_EGRESS_DENY, as the workers read them); the default policy when unset. */
  egress?: EgressPolicy;
  /** How long platforms' declared abilities are kept before they are read again (default 5 s). */
  abilitiesTtlMs?: number;
  /** The transfer rate and setup time assumed for data sources with neither a configured rate nor history. */
  staging?: StagingDefaults;
}

export function loadConfig(): OffersetApiConfig {
  const platform = platformConfig();
  return {
    port: envInt('PORT', 8081),
    host: process.env.HOST ?? '127.0.0.1',
    databaseUrl: envString('DATABASE_URL'),
    redisUrl: envString('REDIS_URL', 'redis://127.0.0.1:6379'),
    platform,
    egress: egressPolicy(),
    staging: {
      bytesPerSecond: envInt('EB_TRANSFER_RATE_MIBPS', 20) * 2 ** 20,
      setupMs: envDurationMs('EB_TRANSFER_SETUP', 'PT2S'),
    },
    offers: {
      platform: platform.name,
      offerTtlMs: envDurationMs('EB_OFFER_TTL', 'PT5M'),
      prepareMs: platform.prepareMs,
      releaseMs: platform.releaseMs,
      maxOffers: envInt('EB_MAX_OFFERS', 4),
      horizonMs: envDurationMs('EB_BOOKING_HORIZON', 'P7D'),
      slotMs: envDurationMs('EB_SLOT', 'PT15M'),
      maxCandidates: envInt('EB_MAX_CANDIDATES', 5000),
      costProfile: costProfileFromEnv(),
    },
    defaults: {
      durationMs: envDurationMs('EB_DEFAULT_DURATION', 'PT1H'),
      cores: envInt('EB_DEFAULT_CORES', 1),
      memoryGib: envInt('EB_DEFAULT_MEMORY_GIB', 1),
      storageGib: envInt('EB_DEFAULT_STORAGE_GIB', 1),
      dataStorageGib: envInt('EB_DEFAULT_DATA_STORAGE_GIB', 10),
    },
  };
}
