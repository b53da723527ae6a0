import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { message, type MessageItem } from '@eb/schema';
import { EgressRefused, resolveInside, safeFileName, type EgressPolicy } from '@eb/core';
import { HttpStatusError, safeGet } from '../../staging/fetch.js';

export interface Checksum {
  type: string;
  value: string;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  messages: MessageItem[];
}

const HASHES: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512', 'sha-256': 'sha256' };

/** The file a URL is saved as: its last path segment, or the fallback, reduced to a safe name. */
export function fileNameFor(url: string, fallback: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  } catch {
    // A malformed escape: use the fallback.
  }
  return safeFileName(last, safeFileName(fallback));
}

/**
 * Streams a URL into a directory (never holding the body in memory), checking its size against a
 * limit and its checksum when one is given. Retries with exponential backoff; messages record each
 * attempt and the outcome. The file appears under its final name only when complete and verified.
 */
export async function download(
  url: string, dir: string, name: string,
  opts: {
    policy: EgressPolicy; checksum?: Checksum; maxBytes?: number; attempts: number; backoffMs?: number;
    signal?: AbortSignal; onProgress?: (m: MessageItem) => void;
  },
): Promise<DownloadResult> {
  const messages: MessageItem[] = [];
  await mkdir(dir, { recursive: true });
  const target = resolveInside(dir, safeFileName(name));
  const partial = `${target}.part`;
  const algorithm = opts.checksum ? HASHES[opts.checksum.type.toLowerCase()] : undefined;
  if (opts.checksum && !algorithm) throw new Error(`unknown checksum type ${opts.checksum.type}`);
  let lastError = '';
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    try {
      const { res } = await safeGet(url, { policy: opts.policy, ...(opts.signal ? { signal: opts.signal } : {}) });
      const hash = algorithm ? createHash(algorithm) : undefined;
      const total = Number(res.headers['content-length']) || undefined;
      if (opts.maxBytes !== undefined && total !== undefined && total > opts.maxBytes) {
        res.destroy();
        throw new TooLargeError(`${total} bytes, larger than the ${opts.maxBytes} bytes of storage booked`);
      }
      // Progress every quarter of a known length, else every 64 MiB.
      const step = total ? Math.ceil(total / 4) : 64 * 2 ** 20;
      let nextReport = step;
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (opts.maxBytes !== undefined && bytes > opts.maxBytes) return done(new TooLargeError(`larger than the ${opts.maxBytes} bytes of storage booked`));
          hash?.update(chunk);
          if (opts.onProgress && bytes >= nextReport && (!total || bytes < total)) {
            nextReport += step;
            opts.onProgress(message('urn:data-progress', 'INFO', 'Downloaded {bytes} of {total} bytes from {url}', { bytes, total: total ?? 'unknown', url }));
          }
          done(null, chunk);
        },
      });
      await pipeline(res, meter, createWriteStream(partial), ...(opts.signal ? [{ signal: opts.signal }] as const : []));
      if (hash && opts.checksum) {
        const got = hash.digest('hex');
        if (got.toLowerCase() !== opts.checksum.value.toLowerCase()) {
          throw new ChecksumError(`${opts.checksum.type} checksum ${got} does not match the expected ${opts.checksum.value}`);
        }
      }
      await rename(partial, target);
      messages.push(message('urn:data-staged', 'INFO', 'Downloaded {bytes} bytes from {url} (attempt {attempt})', { bytes: (await stat(target)).size, url, attempt }));
      return { path: target, bytes, messages };
    } catch (err) {
      await rm(partial, { force: true });
      lastError = opts.signal?.aborted ? `stopped: ${(opts.signal.reason as Error | undefined)?.message ?? 'aborted'}` : (err as Error).message;
      messages.push(message('urn:data-attempt', 'WARN', 'Download attempt {attempt} of {url} failed: {reason}', { attempt, url, reason: lastError }));
      // A wrong checksum, a file too large, a refused address, a cancel or a 4xx will not get better by asking again.
      if (opts.signal?.aborted || err instanceof EgressRefused || err instanceof ChecksumError || err instanceof TooLargeError
        || (err instanceof HttpStatusError && err.status < 500)) break;
      if (attempt < opts.attempts) await sleep((opts.backoffMs ?? 200) * 2 ** (attempt - 1), opts.signal);
    }
  }
  throw new DownloadError(lastError, messages);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

class ChecksumError extends Error {}
class TooLargeError extends Error {}
export class DownloadError extends Error {
  constructor(msg: string, readonly messages: MessageItem[]) { super(msg); }
}
