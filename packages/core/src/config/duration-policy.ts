import { envDurationMs } from './env.js';

/** The max-duration policy (EB_POLICY_MAX_DURATION), which also bounds extensions; undefined when off. */
export function maxDurationMsFromEnv(): number | undefined {
  return process.env.EB_POLICY_MAX_DURATION ? envDurationMs('EB_POLICY_MAX_DURATION', 'PT1H') : undefined;
}
