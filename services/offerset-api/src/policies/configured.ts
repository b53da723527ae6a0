import { envDurationMs, ownerQuotaFromEnv } from '@eb/core';
import type { Policy } from './policy.js';
import { ImageAllowlistPolicy } from './image-allowlist.js';
import { UserQuotaPolicy } from './user-quota.js';
import { MaxDurationPolicy } from './max-duration.js';

/** The policies switched on by the environment; none by default. */
export function configuredPolicies(): Policy[] {
  const policies: Policy[] = [];
  const images = process.env.EB_POLICY_IMAGES;
  if (images) policies.push(new ImageAllowlistPolicy(images.split(',').map((s) => s.trim()).filter(Boolean)));
  // The same limits are checked again at acceptance (core's acceptOffer).
  const quota = ownerQuotaFromEnv();
  if (quota.cores !== undefined || quota.memoryGib !== undefined) policies.push(new UserQuotaPolicy(quota.cores, quota.memoryGib));
  if (process.env.EB_POLICY_MAX_DURATION) policies.push(new MaxDurationPolicy(envDurationMs('EB_POLICY_MAX_DURATION', 'PT1H')));
  return policies;
}
