import { posix, resolve, sep } from 'node:path';

/**
 * Paths built from what users send (component names, URL segments, mount paths) are where a hostile
 * request turns into a file written as root on the host. Names are reduced to a safe alphabet, and every
 * joined path is checked to stay under its directory.
 */

const MAX_NAME = 100;

/** A file name made only of letters, digits, `.`, `_`, `-`, starting with a letter or digit (never `..` or hidden); `fallback` otherwise. */
export function safeFileName(candidate: string | undefined, fallback = 'data'): string {
  const cleaned = (candidate ?? '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, MAX_NAME);
  return cleaned && /[A-Za-z0-9]/.test(cleaned) ? cleaned : fallback;
}

/** `dir/name`, or an error if the result would not be inside `dir` (defence in depth behind safeFileName). */
export function resolveInside(dir: string, name: string): string {
  const root = resolve(dir);
  const full = resolve(root, name);
  if (!full.startsWith(root + sep)) throw new Error(`refusing a path outside ${root}`);
  return full;
}

// Mounting over these would hide or expose what the container's own system needs, or the host's.
const DENIED_MOUNTS = ['/', '/proc', '/sys', '/dev', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/usr', '/boot', '/root', '/run', '/var/run'];
const DENIED_TREES = ['/proc', '/sys', '/dev', '/etc', '/boot', '/run', '/var/run'];

/** Why a container mount path is refused, or undefined when it is acceptable. */
export function mountPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.length > 255) return 'must be at most 255 characters';
  // `:` and `,` would be read as options by the engine's mount syntax; control characters by anything.
  if (/[:,\\\x00-\x1f\x7f]/.test(path)) return 'must not contain ":", ",", "\\" or control characters';
  const normal = posix.normalize(path).replace(/(.)\/$/, '$1');
  if (normal !== path) return `must be normalised (${normal})`;
  if (DENIED_MOUNTS.includes(normal)) return `${normal} is reserved for the system`;
  const tree = DENIED_TREES.find((t) => normal.startsWith(`${t}/`));
  if (tree) return `paths under ${tree} are reserved for the system`;
  return undefined;
}
