import type { RequestTree } from '../offers/request-tree.js';
import { refusal, type Policy, type PolicyContext } from './policy.js';

/**
 * Each owner may hold at most this many cores and GiB of memory in accepted, unfinished executions.
 * A request whose minimum would go over is refused; its maximum is lowered to what is left.
 */
export class UserQuotaPolicy implements Policy {
  readonly name = 'user-quota';

  constructor(private readonly cores: number | undefined, private readonly memoryGib: number | undefined) {}

  async check(tree: RequestTree, ctx: PolicyContext) {
    const used = await ctx.usage();
    const out = [];
    for (const [dim, limit, inUse, want] of [
      ['cores', this.cores, used.cores, tree.cores],
      ['memory', this.memoryGib, used.memoryGib, tree.memoryGib],
    ] as const) {
      if (limit === undefined) continue;
      const left = limit - inUse;
      if (want.min > left) {
        out.push(refusal(this.name, '{owner} has {used} of {limit} {resource} in use; {wanted} more is over the quota', {
          owner: ctx.owner, used: inUse, limit, resource: dim, wanted: want.min,
        }));
      } else {
        want.max = Math.min(want.max, left);
      }
    }
    return out;
  }
}
