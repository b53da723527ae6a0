import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { wakeExecution, type StepJob } from '@eb/core';
import type { ComponentContext, PlatformAdapter } from '../platforms/adapter.js';

export type EndWatch = (ctx: ComponentContext) => void;

/**
 * Wakes an execution's job as soon as its running executable ends, so the end is seen at once rather
 * than at the next poll, which backs off towards EB_POLL_MAX. One watch per execution in this worker;
 * a watch that fails only wakes nothing (the polls go on, and the next one watches again).
 */
export function endWatch(platform: PlatformAdapter, queue: Queue<StepJob>, logger: Logger): EndWatch {
  const watching = new Set<string>();
  return (ctx) => {
    const uuid = ctx.record.execution.uuid;
    if (!platform.whenEnded || watching.has(uuid)) return;
    watching.add(uuid);
    void platform.whenEnded(ctx)
      .then(() => wakeExecution(queue, uuid))
      .catch((err: unknown) => logger.debug({ uuid, err: (err as Error).message }, 'not watching the executable\'s end'))
      .finally(() => watching.delete(uuid));
  };
}
