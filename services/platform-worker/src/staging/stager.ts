import { message, type MessageItem } from '@eb/schema';
import { EgressRefused, type EgressPolicy } from '@eb/core';
import type { ComponentContext, OwnerToken } from '../platforms/adapter.js';
import { planFor } from './kinds/index.js';
import { PlanRefused, type FetchPlan } from './plan.js';
import { HttpStatusError } from './fetch.js';
import type { DataSources } from './sources.js';

/** What every platform's stager needs to turn data components into plans. */
export interface StagingSettings {
  policy: EgressPolicy;
  sources: DataSources;
  /** Attempts at resolving a plan (data services answer 5xx too) and at each download. */
  attempts: number;
  backoffMs?: number;
}

/** Why a plan could not be made, as the data component shows it. */
export class StagingFailed extends Error {
  constructor(msg: string, readonly messages: MessageItem[]) { super(msg); }
}

const permanent = (err: unknown) => err instanceof PlanRefused || err instanceof EgressRefused
  || (err instanceof HttpStatusError && err.status < 500 && err.status !== 429);

/**
 * The fetch plan of the component in `ctx`, made under the egress policy: data services that answer
 * 5xx, 429 or not at all are asked again with backoff; a refusal (4xx, policy, hostile answer) is final.
 */
export async function planData(ctx: ComponentContext, s: StagingSettings, ownerToken: OwnerToken): Promise<FetchPlan> {
  const attempts: MessageItem[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await planFor({
        component: ctx.component, policy: s.policy, sources: s.sources,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ownerToken: () => ownerToken(ctx.record.execution.uuid),
      });
    } catch (err) {
      const reason = ctx.signal?.aborted ? 'stopped' : (err as Error).message;
      if (err instanceof PlanRefused) attempts.push(...err.messages);
      attempts.push(message('urn:data-attempt', 'WARN', 'Locating the data failed (attempt {attempt}): {reason}', { attempt, reason }));
      if (ctx.signal?.aborted || permanent(err) || attempt >= s.attempts) throw new StagingFailed(reason, attempts);
      await new Promise((r) => setTimeout(r, (s.backoffMs ?? 200) * 2 ** (attempt - 1)));
    }
  }
}
