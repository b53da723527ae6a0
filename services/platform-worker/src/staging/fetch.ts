import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { EgressRefused, checkUrlStatically, resolveForFetch, type EgressPolicy } from '@eb/core';

export interface SafeFetchOptions {
  policy: EgressPolicy;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Redirects followed at most; each target is checked like the first URL. */
  maxRedirects?: number;
  /** No byte for this long ends the request. */
  idleTimeoutMs?: number;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number, msg: string) { super(msg); }
}

/**
 * GETs a URL for the stager under the egress policy: the host is resolved and checked, the connection
 * goes to the checked address (a later DNS answer cannot redirect it), and each redirect is checked
 * again. Returns the response stream of the final 2xx answer.
 */
export async function safeGet(raw: string, opts: SafeFetchOptions): Promise<{ res: IncomingMessage; url: string }> {
  let current = raw;
  for (let hop = 0; hop <= (opts.maxRedirects ?? 5); hop++) {
    const url = checkUrlStatically(opts.policy, current);
    const target = await resolveForFetch(opts.policy, url);
    const res = await getOnce(url, target, opts);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, url).toString();
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new HttpStatusError(status, `HTTP ${status} from ${url.origin}${url.pathname}`);
    }
    return { res, url: url.toString() };
  }
  throw new EgressRefused(`more than ${opts.maxRedirects ?? 5} redirects`);
}

function getOnce(url: URL, target: { address: string; family: 4 | 6 }, opts: SafeFetchOptions): Promise<IncomingMessage> {
  // Pin the connection to the address that was checked; TLS still verifies the certificate for the name.
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', lookup, headers: { 'user-agent': 'execution-broker-stager', ...opts.headers }, ...(opts.signal ? { signal: opts.signal } : {}) }, resolve);
    req.setTimeout(opts.idleTimeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url.host} for ${(opts.idleTimeoutMs ?? 30_000) / 1000} s`)));
    req.once('error', reject);
    req.end();
  });
}
