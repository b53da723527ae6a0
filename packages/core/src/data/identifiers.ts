/**
 * What a request may say to name data in a data service: S3 buckets and keys, Rucio DIDs, SRCNet
 * namespaces and names. They are data, never URLs or paths: each is checked against the service's own
 * rules (narrowed where the rules allow path tricks), both when the offer is made and by the worker.
 * Each function says why a value is refused, or undefined when it is acceptable.
 */

const CONTROL = /[\x00-\x1f\x7f]/;

/** S3 bucket naming rules (3-63 lower-case letters, digits, dots, hyphens; not an IP address). */
export function bucketProblem(bucket: unknown): string | undefined {
  if (typeof bucket !== 'string' || bucket === '') return 'a bucket name is required';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return 'a bucket name is 3 to 63 lower-case letters, digits, dots and hyphens';
  if (bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'a bucket name has no ".." and is not an IP address';
  return undefined;
}

/** Segments that could climb out of wherever a key or name is laid out as a path. */
const climbs = (v: string) => v.split('/').some((s) => s === '..' || s === '.');

/** S3 object keys: 1 to 1024 bytes of UTF-8, no control characters, no "." or ".." segments, no leading "/". */
export function objectKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return 'an object key is required (whole buckets are not staged)';
  if (Buffer.byteLength(key) > 1024) return 'an object key is at most 1024 bytes';
  if (CONTROL.test(key)) return 'an object key has no control characters';
  if (key.startsWith('/') || climbs(key)) return 'an object key does not begin with "/" nor have "." or ".." segments';
  return undefined;
}

/** Rucio scopes (as Rucio's default schema has them): letters, digits, _ - . up to 25 characters. */
export function scopeProblem(scope: unknown): string | undefined {
  if (typeof scope !== 'string' || !/^[A-Za-z0-9_.-]{1,25}$/.test(scope)) return 'a scope is 1 to 25 letters, digits, "_", "-" or "."';
  if (scope === '.' || scope === '..') return 'a scope is not "." or ".."';
  return undefined;
}

/** Rucio DID names: letters, digits, _ - . and / (never a "." or ".." segment), up to 250 characters. */
export function didNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.\-/]{1,250}$/.test(name)) return 'a name is 1 to 250 letters, digits, "_", "-", "." or "/"';
  if (name.startsWith('/') || climbs(name)) return 'a name does not begin with "/" nor have "." or ".." segments';
  return undefined;
}

/** SRCNet data-management namespaces are Rucio scopes, and its names Rucio DID names. */
export const namespaceProblem = scopeProblem;

/** A single path segment chosen by the broker from a name (never one the request gives as a path). */
export function encodePathSegment(value: string): string {
  return encodeURIComponent(value);
}
