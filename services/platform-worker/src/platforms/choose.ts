import type { Logger } from 'pino';
import { platformConfig } from '@eb/core';
import type { PlatformAdapter } from './adapter.js';
import { SimulatedPlatform, simulatedTimings } from './simulated/index.js';

/** The adapter named by EB_PLATFORM. */
export async function choosePlatform(logger: Logger): Promise<PlatformAdapter> {
  const config = platformConfig();
  switch (config.type) {
    case 'simulated':
      return new SimulatedPlatform(simulatedTimings());
    default:
      logger.error({ platform: config.type }, 'no adapter for this platform');
      throw new Error(`No adapter for platform ${config.type}`);
  }
}
