import { envDurationMs } from '@eb/core';
import type { Policy } from './policy.js';
import { ImageAllowlistPolicy } from './image-allowlist.js';
import { UserQuotaPolicy } from './user-quota.js';
import { MaxDurationPolicy } from './max-duration.js';

const optionalInt = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

/** The policies switched on by the environment; none by default. */
export function configuredPolicies(): Policy[] {
  const policies: Policy[] = [];
  const images = process.env.EB_POLICY_IMAGES;
  if (images) policies.push(new ImageAllowlistPolicy(images.split(',').map((s) => s.trim()).filter(Boolean)));
  const cores = optionalInt('EB_POLICY_QUOTA_CORES');
  const memory = optionalInt('EB_POLICY_QUOTA_MEMORY_GIB');
  if (cores !== undefined || memory !== undefined) policies.push(new UserQuotaPolicy(cores, memory));
  if (process.env.EB_POLICY_MAX_DURATION) policies.push(new MaxDurationPolicy(envDurationMs('EB_POLICY_MAX_DURATION', 'PT1H')));
  return policies;
}
