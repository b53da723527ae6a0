import { parseDuration } from '@eb/schema';

// Configuration comes from the environment (12-factor); each reader names the variable it failed on.

export function envString(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`${name} must be set`);
  return v;
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, not '${raw}'`);
  return n;
}

/** A duration given as ISO 8601 (PT30S) or as milliseconds. */
export function envDurationMs(name: string, fallback: string): number {
  const raw = process.env[name] ?? fallback;
  const ms = /^\d+$/.test(raw) ? Number(raw) : parseDuration(raw);
  if (ms === undefined || ms < 0) throw new Error(`${name} must be an ISO 8601 duration or milliseconds, not '${raw}'`);
  return ms;
}
