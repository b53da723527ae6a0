import { envDurationMs } from '@eb/core';

export interface SkahaSettings {
  /** The Skaha service, e.g. https://ws-uv.canfar.net/skaha */
  baseUrl: string;
  apiVersion: 'v0' | 'v1';
  /** Renew sessions this often while they run (Skaha expires sessions after its configured time). */
  renewEveryMs: number;
  /** The CANSRC prepare-data gatekeeper (POST /preparedata), which stages data-lake files into the user's home. */
  prepareDataUrl?: string;
  /** Where a user's home is in sessions ({user} is the owner), under which the gatekeeper's destinations lie. */
  dataHome?: string;
}

export function skahaSettings(): SkahaSettings {
  const baseUrl = process.env.EB_SKAHA_URL;
  if (!baseUrl) throw new Error('EB_PLATFORM=skaha needs EB_SKAHA_URL');
  const apiVersion = process.env.EB_SKAHA_API_VERSION === 'v0' ? 'v0' : 'v1';
  return {
    baseUrl: baseUrl.replace(/\/$/, ''), apiVersion, renewEveryMs: envDurationMs('EB_SKAHA_RENEW_EVERY', 'PT12H'),
    ...(process.env.EB_SKAHA_PREPARE_DATA_URL ? { prepareDataUrl: process.env.EB_SKAHA_PREPARE_DATA_URL.replace(/\/$/, '') } : {}),
    dataHome: process.env.EB_SKAHA_DATA_HOME ?? '/arc/home/{user}',
  };
}
