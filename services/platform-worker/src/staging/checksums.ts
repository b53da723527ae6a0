import { createHash, type Hash } from 'node:crypto';
import type { Checksum } from './plan.js';

/** A running digest: Node's hashes, and Adler-32 (what Rucio and the SRCNet data lake record). */
export interface Digest {
  update(chunk: Buffer): void;
  hex(): string;
}

const MOD_ADLER = 65521;
// The largest run of bytes before the sums must be reduced (zlib's NMAX): no overflow past 2^53 either way.
const NMAX = 5552;

export function adler32(): Digest {
  let a = 1;
  let b = 0;
  return {
    update(chunk) {
      for (let i = 0; i < chunk.length;) {
        const end = Math.min(chunk.length, i + NMAX);
        for (; i < end; i++) {
          a += chunk[i]!;
          b += a;
        }
        a %= MOD_ADLER;
        b %= MOD_ADLER;
      }
    },
    hex: () => (((b << 16) | a) >>> 0).toString(16).padStart(8, '0'),
  };
}

const NODE: Record<string, string> = { md5: 'md5', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha512: 'sha512', 'sha-512': 'sha512' };

function nodeDigest(algorithm: string): Digest {
  const h: Hash = createHash(algorithm);
  return { update: (c) => { h.update(c); }, hex: () => h.digest('hex') };
}

/** The canonical name of a checksum type the stager can compute, or undefined. */
export function checksumType(type: string): string | undefined {
  const t = type.toLowerCase();
  if (t === 'adler32' || t === 'adler-32') return 'adler32';
  return NODE[t];
}

export function digestFor(type: string): Digest | undefined {
  const t = checksumType(type);
  if (!t) return undefined;
  return t === 'adler32' ? adler32() : nodeDigest(t);
}

/** Compares hex values as the services write them (Adler-32 sometimes without leading zeros). */
export function sameChecksum(type: string, got: string, expected: string): boolean {
  const norm = (v: string) => (checksumType(type) === 'adler32' ? v.toLowerCase().padStart(8, '0') : v.toLowerCase());
  return norm(got) === norm(expected.trim());
}

/** Checksums the stager can verify, keeping the first of each type. */
export function verifiable(checksums: readonly Checksum[]): Checksum[] {
  const seen = new Set<string>();
  return checksums.filter((c) => {
    const t = checksumType(c.type);
    if (!t || seen.has(t) || typeof c.value !== 'string' || !/^[0-9a-fA-F]{1,128}$/.test(c.value.trim())) return false;
    seen.add(t);
    return true;
  });
}
