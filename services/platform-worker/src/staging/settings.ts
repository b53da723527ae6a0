import { egressPolicy, envInt } from '@eb/core';
import { NO_SOURCES, dataSourcesFromEnv } from './sources.js';
import type { StagingSettings } from './stager.js';

export type { StagingSettings };

/** The egress policy (EB_EGRESS_ALLOW/DENY), the data sources (EB_DATA_SOURCES[_FILE]), EB_DOWNLOAD_ATTEMPTS. */
export function stagingSettings(): StagingSettings {
  return { policy: egressPolicy(), sources: dataSourcesFromEnv(), attempts: envInt('EB_DOWNLOAD_ATTEMPTS', 4) };
}

/** Nothing allowed but public addresses, no configured sources: what tests start from. */
export const NO_STAGING: StagingSettings = { policy: egressPolicy('', ''), sources: NO_SOURCES, attempts: 1, backoffMs: 50 };
