import { envDurationMs, envInt, ownerQuotaFromEnv } from '@eb/core';
import type { Policy } from './policy.js';
import { ImageAllowlistPolicy } from './image-allowlist.js';
import { UserQuotaPolicy } from './user-quota.js';
import { MaxDurationPolicy } from './max-duration.js';
import { OpenOfferSetsPolicy } from './open-offersets.js';

/** The policies switched on by the environment; by default only the cap on open offer sets. */
export function configuredPolicies(): Policy[] {
  const policies: Policy[] = [];
  // 0 switches it off.
  const open = envInt('EB_POLICY_OPEN_OFFERSETS', 10);
  const over = process.env.EB_POLICY_OPEN_OFFERSETS_OVER ?? 'release';
  if (over !== 'release' && over !== 'refuse') throw new Error(`EB_POLICY_OPEN_OFFERSETS_OVER must be release or refuse, not '${over}'`);
  if (open > 0) policies.push(new OpenOfferSetsPolicy(open, over));
  const images = process.env.EB_POLICY_IMAGES;
  if (images) policies.push(new ImageAllowlistPolicy(images.split(',').map((s) => s.trim()).filter(Boolean)));
  // The same limits are checked again at acceptance (core's acceptOffer).
  const quota = ownerQuotaFromEnv();
  if (quota.cores !== undefined || quota.memoryGib !== undefined) policies.push(new UserQuotaPolicy(quota.cores, quota.memoryGib));
  if (process.env.EB_POLICY_MAX_DURATION) policies.push(new MaxDurationPolicy(envDurationMs('EB_POLICY_MAX_DURATION', 'PT1H')));
  return policies;
}
