/**
 * An update's target path as one canonical dotted string. Clients send either the dotted form
 * (`phase`, `schedule.available.duration`) or a JSON Pointer (`/phase`, `/schedule/available/duration`,
 * RFC 6901, as the upstream Python client does); both name the same thing.
 */
export function canonicalUpdatePath(path: string): string {
  if (!path.startsWith('/')) return path;
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}
