import type { Logger } from 'pino';
import { upsertPlatform, type Db } from '@eb/db';
import { capacityWithinEngine, type PlatformConfig } from '@eb/core';
import type { PlatformAdapter } from '../platforms/adapter.js';

/**
 * Declares the platform's capacity from the engine the worker drives, where the adapter reports one:
 * never more than the engine has (times EB_CAPACITY_OVERCOMMIT), the engine's own figures unless
 * capacity is configured. Other platforms are declared from configuration by the offer-set API.
 */
export async function declareEngineCapacity(db: Db, config: PlatformConfig, platform: PlatformAdapter, logger: Logger): Promise<void> {
  if (!platform.engineCapacity) return;
  const engine = await platform.engineCapacity();
  const capacity = capacityWithinEngine(config, engine);
  await upsertPlatform(db, capacity);
  logger.info({ engine, configured: config.configured, overcommit: config.overcommit, capacity }, 'capacity declared from the engine');
}
