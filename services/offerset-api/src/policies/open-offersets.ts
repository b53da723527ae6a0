import type { RequestTree } from '../offers/request-tree.js';
import { refusal, type Policy, type PolicyContext } from './policy.js';

export type OverCap = 'release' | 'refuse';

/**
 * Each owner may have at most this many offer sets open (offers neither answered nor lapsed), since
 * each holds capacity that nobody else can be offered. Past the cap, either the owner's oldest open
 * sets lapse at once to make room (`release`, the default), or the request is refused (`refuse`).
 */
export class OpenOfferSetsPolicy implements Policy {
  readonly name = 'open-offersets';

  constructor(private readonly cap: number, private readonly over: OverCap = 'release') {}

  async check(_tree: RequestTree, ctx: PolicyContext) {
    const open = await ctx.openOfferSets();
    if (open.length < this.cap) return [];
    if (this.over === 'refuse') {
      return [refusal(this.name, '{owner} already has {open} offer sets open, the most allowed is {cap}; accept or reject one first', {
        owner: ctx.owner, open: open.length, cap: this.cap,
      })];
    }
    const oldest = open.slice(0, open.length - this.cap + 1);
    await ctx.releaseOfferSets(oldest, `released: its owner asked for more than ${this.cap} offer sets at once (policy open-offersets)`);
    return [];
  }
}
