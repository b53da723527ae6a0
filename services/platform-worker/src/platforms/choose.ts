import type { Logger } from 'pino';
import { envDurationMs, platformConfig, sealerFromEnv } from '@eb/core';
import { findCredential, type Db } from '@eb/db';
import type { PlatformAbilities } from '@eb/db';
import type { OwnerToken, PlatformAdapter } from './adapter.js';
import { SimulatedPlatform, simulatedTimings } from './simulated/index.js';
import { DockerPlatform } from './docker/index.js';
import { dockerSettings } from './docker/config.js';
import { KubernetesPlatform } from './kubernetes/index.js';
import { kubernetesSettings } from './kubernetes/config.js';
import { SkahaPlatform } from './skaha/index.js';
import { skahaSettings } from './skaha/config.js';
import { commandToken, staticToken, type TokenSource } from './skaha/token.js';
import { simulatedAbilities } from './simulated/abilities.js';
import { dockerAbilities } from './docker/abilities.js';
import { kubernetesAbilities } from './kubernetes/abilities.js';
import { skahaAbilities } from './skaha/abilities.js';

/** The platform's adapter, and what it can run (declared in the platform's row for the offer-set API). */
export interface PlatformSetup {
  adapter: PlatformAdapter;
  abilities: PlatformAbilities;
}

/** The adapter named by EB_PLATFORM, with its abilities. */
export async function choosePlatform(logger: Logger, db: Db): Promise<PlatformSetup> {
  const config = platformConfig();
  switch (config.type) {
    case 'simulated':
      logger.warn('EB_PLATFORM=simulated: executions run nothing for real (each one says so in its messages)');
      return { adapter: new SimulatedPlatform(simulatedTimings()), abilities: simulatedAbilities() };
    case 'docker': {
      const settings = dockerSettings();
      const docker = new DockerPlatform(settings, logger, ownerTokens(db));
      if (!(await docker.ping())) throw new Error('EB_PLATFORM=docker but no Docker engine answers');
      return { adapter: docker, abilities: dockerAbilities(settings.staging, settings.notebookImage) };
    }
    case 'kubernetes': {
      const settings = kubernetesSettings();
      return { adapter: KubernetesPlatform.fromDefault(settings, ownerTokens(db)), abilities: kubernetesAbilities(settings.staging, settings.notebookImage) };
    }
    case 'skaha':
      const settings = skahaSettings();
      return { adapter: new SkahaPlatform(settings, skahaTokens(), ownerTokens(db)), abilities: skahaAbilities(settings) };
    default:
      logger.error({ platform: config.type }, 'no adapter for this platform');
      throw new Error(`No adapter for platform ${config.type}`);
  }
}

/** The service token: printed by EB_SKAHA_TOKEN_COMMAND (renewed in the background), or EB_SKAHA_TOKEN. */
function skahaTokens(): TokenSource {
  const command = process.env.EB_SKAHA_TOKEN_COMMAND;
  if (command) return commandToken(command, envDurationMs('EB_SKAHA_TOKEN_REFRESH', 'PT10M'));
  const token = process.env.EB_SKAHA_TOKEN;
  if (token) return staticToken(token);
  throw new Error('EB_PLATFORM=skaha needs EB_SKAHA_TOKEN_COMMAND or EB_SKAHA_TOKEN');
}

/** The owner's own token, kept (encrypted) since acceptance and refreshed by the worker, when there is one. */
function ownerTokens(db: Db): OwnerToken {
  const sealer = sealerFromEnv();
  if (!sealer || process.env.EB_SKAHA_USE_OWNER_TOKEN === 'false') return async () => undefined;
  return async (uuid) => {
    const c = await findCredential(db, uuid);
    return c && (!c.expiresAt || c.expiresAt.getTime() > Date.now()) ? sealer.open(c.accessToken) : undefined;
  };
}
