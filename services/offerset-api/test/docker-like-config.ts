import { egressPolicy } from '@eb/core';
import type { PlatformCapacity } from '@eb/db';
import type { OffersetApiConfig } from '../src/config.js';

/**
 * The offer-set API as configured in front of a Docker platform, with the egress policy's defaults
 * (nothing private allowed) and abilities read afresh for every request; tests change what they try.
 */
export function dockerLikeConfig(p: PlatformCapacity, change: { maxOffers?: number; dataStorageGib?: number } & Partial<Pick<OffersetApiConfig, 'staging'>> = {}): OffersetApiConfig {
  const { maxOffers = 1, dataStorageGib = 1, ...rest } = change;
  return {
    port: 0, host: '127.0.0.1', databaseUrl: '', redisUrl: '', egress: egressPolicy('', ''), abilitiesTtlMs: 0,
    platform: { ...p, type: 'docker', prepareMs: 30_000, releaseMs: 10_000 },
    offers: { platform: p.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 200 },
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib },
    ...rest,
  };
}
