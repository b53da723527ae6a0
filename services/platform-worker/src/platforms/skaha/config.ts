import { envDurationMs } from '@eb/core';

export interface SkahaSettings {
  /** The Skaha service, e.g. https://ws-uv.canfar.net/skaha */
  baseUrl: string;
  apiVersion: 'v0' | 'v1';
  /** Renew sessions this often while they run (Skaha expires sessions after its configured time). */
  renewEveryMs: number;
}

export function skahaSettings(): SkahaSettings {
  const baseUrl = process.env.EB_SKAHA_URL;
  if (!baseUrl) throw new Error('EB_PLATFORM=skaha needs EB_SKAHA_URL');
  const apiVersion = process.env.EB_SKAHA_API_VERSION === 'v0' ? 'v0' : 'v1';
  return { baseUrl: baseUrl.replace(/\/$/, ''), apiVersion, renewEveryMs: envDurationMs('EB_SKAHA_RENEW_EVERY', 'PT12H') };
}
