import { message, type MessageItem } from '@eb/schema';
import type { RequestTree } from '../offers/request-tree.js';

export interface PolicyContext {
  owner: string;
  /** Cores and memory the owner's accepted, unfinished executions hold now. */
  usage(): Promise<{ cores: number; memoryGib: number }>;
}

/**
 * A rule applied to every request before planning. It answers with refusals (which make the offer
 * set NO), and may narrow the request (e.g. lower the most cores offered) so the plan stays within it.
 */
export interface Policy {
  readonly name: string;
  check(tree: RequestTree, ctx: PolicyContext): Promise<MessageItem[]>;
}

export function refusal(policy: string, reason: string, values: Record<string, string | number> = {}): MessageItem {
  return message('urn:policy-refusal', 'ERROR', 'Refused by policy [{policy}]: ' + reason, { policy, ...values });
}

export async function applyPolicies(policies: readonly Policy[], tree: RequestTree, ctx: PolicyContext): Promise<MessageItem[]> {
  const out: MessageItem[] = [];
  for (const p of policies) out.push(...(await p.check(tree, ctx)));
  return out;
}
