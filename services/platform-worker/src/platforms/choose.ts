import type { Logger } from 'pino';
import { platformConfig } from '@eb/core';
import type { PlatformAdapter } from './adapter.js';
import { SimulatedPlatform, simulatedTimings } from './simulated/index.js';
import { DockerPlatform } from './docker/index.js';
import { dockerSettings } from './docker/config.js';
import { KubernetesPlatform } from './kubernetes/index.js';
import { kubernetesSettings } from './kubernetes/config.js';

/** The adapter named by EB_PLATFORM. */
export async function choosePlatform(logger: Logger): Promise<PlatformAdapter> {
  const config = platformConfig();
  switch (config.type) {
    case 'simulated':
      return new SimulatedPlatform(simulatedTimings());
    case 'docker': {
      const docker = new DockerPlatform(dockerSettings());
      if (!(await docker.ping())) throw new Error('EB_PLATFORM=docker but no Docker engine answers');
      return docker;
    }
    case 'kubernetes':
      return KubernetesPlatform.fromDefault(kubernetesSettings());
    default:
      logger.error({ platform: config.type }, 'no adapter for this platform');
      throw new Error(`No adapter for platform ${config.type}`);
  }
}
