import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { EgressRefused, checkUrlStatically, resolveForFetch, type EgressPolicy } from '@eb/core';

export interface SafeFetchOptions {
  policy: EgressPolicy;
  signal?: AbortSignal;
  /** Sent to the first URL's origin only: a redirect to another origin drops them (they carry credentials). */
  headers?: Record<string, string>;
  /** Redirects followed at most; each target is checked like the first URL. */
  maxRedirects?: number;
  /** No byte for this long ends the request. */
  idleTimeoutMs?: number;
}

export interface SafeRequestOptions extends SafeFetchOptions {
  method?: string;
  body?: string;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number, msg: string, readonly body = '') { super(msg); }
}

/**
 * GETs a URL for the stager under the egress policy: the host is resolved and checked, the connection
 * goes to the checked address (a later DNS answer cannot redirect it), and each redirect is checked
 * again. Returns the response stream of the final 2xx answer.
 */
export async function safeGet(raw: string, opts: SafeFetchOptions): Promise<{ res: IncomingMessage; url: string }> {
  return safeRequest(raw, opts);
}

/** Any method, under the same policy as safeGet; a body is sent to the first URL only (never re-posted on a redirect). */
export async function safeRequest(raw: string, opts: SafeRequestOptions): Promise<{ res: IncomingMessage; url: string }> {
  let current = raw;
  let headers = opts.headers ?? {};
  let method = opts.method ?? 'GET';
  let body = opts.body;
  const origin = checkUrlStatically(opts.policy, raw).origin;
  for (let hop = 0; hop <= (opts.maxRedirects ?? 5); hop++) {
    const url = checkUrlStatically(opts.policy, current);
    if (url.origin !== origin) headers = {};
    const target = await resolveForFetch(opts.policy, url);
    const res = await requestOnce(url, target, { ...opts, headers, method, ...(body !== undefined ? { body } : {}) });
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, url).toString();
      // As browsers do: a redirected POST becomes a GET without its body (307/308 would repeat it; refused below).
      if (body !== undefined && (status === 307 || status === 308)) throw new EgressRefused(`${status} redirect of a ${method} request`);
      method = 'GET';
      body = undefined;
      continue;
    }
    if (status < 200 || status >= 300) {
      const text = await readText(res, 4096).catch(() => '');
      throw new HttpStatusError(status, `HTTP ${status} from ${url.origin}${url.pathname}`, text);
    }
    return { res, url: url.toString() };
  }
  throw new EgressRefused(`more than ${opts.maxRedirects ?? 5} redirects`);
}

function requestOnce(url: URL, target: { address: string; family: 4 | 6 }, opts: SafeRequestOptions): Promise<IncomingMessage> {
  // Pin the connection to the address that was checked; TLS still verifies the certificate for the name.
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const idle = opts.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET', lookup,
      headers: { 'user-agent': 'execution-broker-stager', ...opts.headers, ...(opts.body !== undefined ? { 'content-length': Buffer.byteLength(opts.body) } : {}) },
      ...(opts.signal ? { signal: opts.signal } : {}),
    }, resolve);
    req.setTimeout(idle, () => req.destroy(new Error(`no answer from ${url.host} for ${idle / 1000} s`)));
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** A response body as text, refusing one longer than `maxBytes` (a hostile service could send forever). */
export async function readText(res: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw new EgressRefused(`the answer is longer than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON API call under the egress policy: the parsed body of the 2xx answer. */
export async function fetchJson<T>(url: string, opts: SafeRequestOptions & { maxBytes?: number }): Promise<{ body: T; headers: IncomingMessage['headers'] }> {
  const { res } = await safeRequest(url, { ...opts, headers: { accept: 'application/json', ...opts.headers } });
  const text = await readText(res, opts.maxBytes ?? 4 * 2 ** 20);
  try {
    return { body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  } catch {
    throw new Error(`${new URL(url).origin} answered something that is not JSON`);
  }
}
