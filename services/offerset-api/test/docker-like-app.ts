import type { Express } from 'express';
import { StepQueues, egressPolicy, redisConnection } from '@eb/core';
import type { PlatformAbilities, PlatformCapacity } from '@eb/db';
import { noAuth, quietLogger, redisUrl, testDatabase, testPlatform, uniquePrefix, SIMULATED_ABILITIES } from '@eb/tests/support/env.js';
import { createApp } from '../src/app.js';
import type { OffersetApiConfig } from '../src/config.js';

type Change = { maxOffers?: number; dataStorageGib?: number } & Partial<Pick<OffersetApiConfig, 'staging'>>;

/**
 * The offer-set API as configured in front of a Docker platform, with the egress policy's defaults
 * (nothing private allowed) and abilities read afresh for every request; tests change what they try.
 */
export function dockerLikeConfig(p: PlatformCapacity, change: Change = {}): OffersetApiConfig {
  const { maxOffers = 1, dataStorageGib = 1, ...rest } = change;
  return {
    port: 0, host: '127.0.0.1', databaseUrl: '', redisUrl: '', egress: egressPolicy('', ''), abilitiesTtlMs: 0,
    platform: { ...p, type: 'docker', prepareMs: 30_000, releaseMs: 10_000 },
    offers: { platform: p.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 200 },
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib },
    ...rest,
  };
}

export interface DockerLikeApp {
  app: Express;
  platform: PlatformCapacity;
  db: ReturnType<typeof testDatabase>;
  close(): Promise<void>;
}

/** A platform of its own with these abilities, and the offer-set API in front of it (dockerLikeConfig). */
export async function startDockerLikeApp(capacity: Partial<Omit<PlatformCapacity, 'name'>>, abilities: PlatformAbilities = SIMULATED_ABILITIES, change: Change = {}): Promise<DockerLikeApp> {
  const db = testDatabase();
  const redis = redisConnection(redisUrl());
  const queues = new StepQueues(redis, uniquePrefix());
  const platform = await testPlatform(db.db, capacity, abilities);
  const app = createApp({ db: db.db, queues, config: dockerLikeConfig(platform, change), logger: quietLogger, auth: noAuth });
  return {
    app, platform, db,
    async close() {
      await queues.for(platform.name).obliterate({ force: true });
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
