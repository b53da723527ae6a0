import { BrokerError, NoOffersError, WaitTimeoutError } from './errors.js';
import { TERMINAL_PHASES, type Execution, type ExecutionPhase, type ExecutionRequest, type OfferSet, type Problem } from './types.js';

export interface ClientOptions {
  /** The broker's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Called with each execution seen while waiting (each long-poll answer). */
  onUpdate?: (execution: Execution) => void;
}

const MAX_WAIT_S = 60;

/** What an execution's executable printed on one stream: the end of it, as bytes. */
export interface Output {
  content: Uint8Array;
  /** How much it printed in all; `content` is the last part of that. */
  totalBytes: number;
  /** True once the executable has ended and its output was read for good. */
  complete: boolean;
}

/** A small client for the Execution Broker API: offers, acceptance, updates and long-poll waiting. */
export class BrokerClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/$/, '');
    this.doFetch = opts.fetch ?? fetch;
  }

  private url(pathOrUrl: string): string {
    return /^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.base}${pathOrUrl}`;
  }

  private async call(method: string, pathOrUrl: string, init: { body?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    if (init.body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json';
    const res = await this.doFetch(this.url(pathOrUrl), { method, headers, redirect: 'manual', ...(init.body !== undefined ? { body: init.body } : {}) });
    if (res.status >= 400) {
      const text = await res.text();
      let problem: Problem;
      try { problem = JSON.parse(text) as Problem; } catch { problem = { title: res.statusText, status: res.status, detail: text.slice(0, 500) }; }
      throw new BrokerError(res.status, problem);
    }
    return res;
  }

  private async json<T>(res: Response): Promise<T> {
    return (await res.json()) as T;
  }

  /**
   * Asks for offers. `request` is an object (sent as JSON) or YAML/JSON text (sent as YAML, which
   * covers both). Follows the 303 to the offer set.
   */
  async requestOffers(request: ExecutionRequest | string): Promise<OfferSet> {
    const body = typeof request === 'string' ? request : JSON.stringify(request);
    const res = await this.call('POST', '/offersets', { body, contentType: typeof request === 'string' ? 'application/yaml' : 'application/json' });
    if (res.status === 303) {
      const location = res.headers.get('location');
      if (!location) throw new Error('303 without a Location header');
      return this.json<OfferSet>(await this.call('GET', location));
    }
    return this.json<OfferSet>(res);
  }

  async getOfferSet(uuid: string): Promise<OfferSet> {
    return this.json<OfferSet>(await this.call('GET', `/offersets/${uuid}`));
  }

  /** The first offer, or the first the predicate likes; NoOffersError when there is none. */
  pickOffer(set: OfferSet, predicate: (offer: Execution) => boolean = () => true): Execution {
    const offers = (set.offers ?? []) as Execution[];
    const chosen = set.result === 'YES' ? offers.find(predicate) : undefined;
    if (!chosen) throw new NoOffersError(set.meta?.uuid, set.meta?.messages ?? []);
    return chosen;
  }

  /**
   * One execution; `waitS` long-polls until its phase changes (at most 60 s). With `since` (the ETag
   * of an earlier answer) it answers at once if the phase has already moved on since then.
   */
  async get(uuid: string, waitS?: number, since?: string): Promise<Execution> {
    return (await this.getTagged(uuid, waitS, since)).execution;
  }

  private async getTagged(uuid: string, waitS?: number, since?: string, previous?: Execution): Promise<{ execution: Execution; etag?: string }> {
    const headers: Record<string, string> = waitS ? { Prefer: `wait=${Math.min(MAX_WAIT_S, Math.ceil(waitS))}` } : {};
    if (since) headers['If-None-Match'] = since;
    const res = await this.call('GET', `/executions/${uuid}`, { headers });
    // A long-poll that ended with no change: 304 Not Modified, no body; what we had is still current.
    if (res.status === 304) return previous ? { execution: previous, ...(since ? { etag: since } : {}) } : this.getTagged(uuid);
    const etag = res.headers.get('etag') ?? undefined;
    return { execution: await this.json<Execution>(res), ...(etag ? { etag } : {}) };
  }

  /** The executable's stdout or stderr, from its session connector. */
  async output(uuid: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<Output> {
    const res = await this.call('GET', `/sessions/${uuid}/docker/${stream}-get`, { headers: { Accept: 'text/plain' } });
    const content = new Uint8Array(await res.arrayBuffer());
    return {
      content,
      totalBytes: Number(res.headers.get('x-output-total-bytes') ?? content.length),
      complete: res.headers.get('x-output-complete') === 'true',
    };
  }

  async setPhase(uuid: string, phase: 'ACCEPTED' | 'REJECTED' | 'CANCELLED', headers: Record<string, string> = {}): Promise<Execution> {
    const body = JSON.stringify({ kind: 'uri:enum-value-update', path: '/phase', value: phase });
    return this.json<Execution>(await this.call('POST', `/executions/${uuid}`, { body, headers }));
  }

  /** Accepts an offer; a refresh token lets the broker renew the caller's token for long executions. */
  accept(uuid: string, opts: { refreshToken?: string } = {}): Promise<Execution> {
    return this.setPhase(uuid, 'ACCEPTED', opts.refreshToken ? { 'X-Refresh-Token': opts.refreshToken } : {});
  }

  reject(uuid: string): Promise<Execution> {
    return this.setPhase(uuid, 'REJECTED');
  }

  cancel(uuid: string): Promise<Execution> {
    return this.setPhase(uuid, 'CANCELLED');
  }

  /** Waits, by long-polls, until the execution is in one of `phases`. */
  async waitForPhase(uuid: string, phases: readonly ExecutionPhase[], opts: WaitOptions = {}): Promise<Execution> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    let { execution: current, etag } = await this.getTagged(uuid);
    opts.onUpdate?.(current);
    while (!phases.includes(current.phase as ExecutionPhase)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(uuid, current.phase);
      // Nothing more will happen to an execution that has ended in another phase.
      if (TERMINAL_PHASES.includes(current.phase as ExecutionPhase)) throw new WaitTimeoutError(uuid, current.phase);
      ({ execution: current, etag } = await this.getTagged(uuid, Math.max(1, Math.min(MAX_WAIT_S, left / 1000)), etag, current));
      opts.onUpdate?.(current);
    }
    return current;
  }

  waitUntilTerminal(uuid: string, opts: WaitOptions = {}): Promise<Execution> {
    return this.waitForPhase(uuid, TERMINAL_PHASES, opts);
  }
}
