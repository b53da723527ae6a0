import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { message, type MessageItem } from '@eb/schema';
import { EgressRefused, resolveInside, safeFileName, type EgressPolicy } from '@eb/core';
import { HttpStatusError, safeGet } from './fetch.js';
import { digestFor, sameChecksum, verifiable } from './checksums.js';
import { shownUrl } from './names.js';
import type { FetchItem } from './plan.js';

export interface DownloadResult {
  path: string;
  bytes: number;
  messages: MessageItem[];
}

export interface DownloadOptions {
  policy: EgressPolicy;
  /** The most the file may be (the storage booked for it). */
  maxBytes?: number;
  attempts: number;
  backoffMs?: number;
  signal?: AbortSignal;
  onProgress?: (m: MessageItem) => void;
}

/**
 * Streams one planned file into a directory (never holding the body in memory), checking its size
 * against the expected size and the limit, and every checksum the plan gives. Retries with exponential
 * backoff; messages record each attempt and the outcome. The file appears under its final name only
 * when complete and verified.
 */
export async function download(item: FetchItem, dir: string, opts: DownloadOptions): Promise<DownloadResult> {
  const messages: MessageItem[] = [];
  await mkdir(dir, { recursive: true });
  const target = resolveInside(dir, safeFileName(item.file));
  const partial = `${target}.part`;
  if (item.size !== undefined && opts.maxBytes !== undefined && item.size > opts.maxBytes) {
    throw new DownloadError(`${item.size} bytes, larger than the ${opts.maxBytes} bytes of storage booked`, [
      message('urn:data-attempt', 'WARN', 'Not downloading {url}: {reason}', { url: item.shownUrl, reason: `${item.size} bytes, larger than the storage booked` }),
    ]);
  }
  let lastError = '';
  const urls = [{ url: item.url, ...(item.headers ? { headers: item.headers } : {}) }, ...(item.alternatives ?? [])];
  for (let attempt = 1; attempt <= Math.max(opts.attempts, urls.length); attempt++) {
    // Each attempt asks the next replica, when there are several.
    const from = urls[(attempt - 1) % urls.length]!;
    const url = from.url === item.url ? item.shownUrl : shownUrl(from.url);
    try {
      const { headers: _h, ...rest } = item;
      const bytes = await fetchOnce({ ...rest, url: from.url, shownUrl: url, ...(from.headers ? { headers: from.headers } : {}) }, partial, opts);
      await rename(partial, target);
      messages.push(message('urn:data-staged', 'INFO', 'Downloaded {bytes} bytes from {url} (attempt {attempt})', { bytes: (await stat(target)).size, url, attempt }));
      return { path: target, bytes, messages };
    } catch (err) {
      await rm(partial, { force: true });
      lastError = opts.signal?.aborted ? `stopped: ${(opts.signal.reason as Error | undefined)?.message ?? 'aborted'}` : (err as Error).message;
      messages.push(message('urn:data-attempt', 'WARN', 'Download attempt {attempt} of {url} failed: {reason}', { attempt, url, reason: lastError }));
      // A cancel will not get better by asking again; nor a wrong checksum or size, a file too large, a
      // refused address or a 4xx, unless another replica remains to be asked.
      const final = err instanceof EgressRefused || err instanceof IntegrityError || (err instanceof HttpStatusError && err.status < 500);
      if (opts.signal?.aborted || (final && attempt >= urls.length)) break;
      if (!final && attempt < opts.attempts) await sleep((opts.backoffMs ?? 200) * 2 ** (attempt - 1), opts.signal);
    }
  }
  throw new DownloadError(lastError, messages);
}

async function fetchOnce(item: FetchItem, partial: string, opts: DownloadOptions): Promise<number> {
  const { res } = await safeGet(item.url, { policy: opts.policy, ...(item.headers ? { headers: item.headers } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const digests = verifiable(item.checksums).map((c) => ({ c, d: digestFor(c.type)! }));
  const declared = Number(res.headers['content-length']) || undefined;
  const fail = (e: Error) => { res.destroy(); throw e; };
  if (opts.maxBytes !== undefined && declared !== undefined && declared > opts.maxBytes) fail(new IntegrityError(`${declared} bytes, larger than the ${opts.maxBytes} bytes of storage booked`));
  if (item.size !== undefined && declared !== undefined && declared !== item.size) fail(new IntegrityError(`the server sends ${declared} bytes where ${item.size} were expected`));
  const total = item.size ?? declared;
  // Progress every quarter of a known length, else every 64 MiB.
  const step = total ? Math.ceil(total / 4) : 64 * 2 ** 20;
  let nextReport = step;
  let bytes = 0;
  const limit = Math.min(opts.maxBytes ?? Infinity, item.size ?? Infinity);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > limit) return done(new IntegrityError(limit === item.size ? `more than the ${item.size} bytes expected` : `larger than the ${opts.maxBytes} bytes of storage booked`));
      for (const { d } of digests) d.update(chunk);
      if (opts.onProgress && bytes >= nextReport && (!total || bytes < total)) {
        nextReport += step;
        opts.onProgress(message('urn:data-progress', 'INFO', 'Downloaded {bytes} of {total} bytes from {url}', { bytes, total: total ?? 'unknown', url: item.shownUrl }));
      }
      done(null, chunk);
    },
  });
  await pipeline(res, meter, createWriteStream(partial), ...(opts.signal ? [{ signal: opts.signal }] as const : []));
  if (item.size !== undefined && bytes !== item.size) throw new IntegrityError(`${bytes} bytes received where ${item.size} were expected`);
  for (const { c, d } of digests) {
    const got = d.hex();
    if (!sameChecksum(c.type, got, c.value)) throw new IntegrityError(`${c.type} checksum ${got} does not match the expected ${c.value}`);
  }
  return bytes;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** The file is not what was expected (checksum, size): asking again would give the same. */
class IntegrityError extends Error {}
export class DownloadError extends Error {
  constructor(msg: string, readonly messages: MessageItem[]) { super(msg); }
}
