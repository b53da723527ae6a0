import { safeFileName } from '@eb/core';

/** The file a URL is saved as: its last path segment, or the fallback, reduced to a safe name. */
export function fileNameFor(url: string, fallback: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  } catch {
    // A malformed escape or URL: use the fallback.
  }
  return safeFileName(last, safeFileName(fallback));
}

/** A URL fit to show: no query string (presigned URLs carry signatures there) and no fragment. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url.slice(0, 200);
  }
}

/** Safe names for several files, made unique (a second `x.fits` becomes `x-2.fits`). */
export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const count = (seen.get(n) ?? 0) + 1;
    seen.set(n, count);
    if (count === 1) return n;
    const dot = n.lastIndexOf('.');
    return dot > 0 ? `${n.slice(0, dot)}-${count}${n.slice(dot)}` : `${n}-${count}`;
  });
}
