import { envDurationMs } from '@eb/core';
import type { DockerContainer } from '@eb/schema';
import type { PlatformAdapter, PlatformContext, RunStatus, StepOutput } from '../adapter.js';

export interface SimulatedTimings {
  prepareMs: number;
  runMs: number;
  releaseMs: number;
}

export function simulatedTimings(): SimulatedTimings {
  return {
    prepareMs: envDurationMs('EB_SIM_PREPARE', 'PT2S'),
    runMs: envDurationMs('EB_SIM_RUN', 'PT5S'),
    releaseMs: envDurationMs('EB_SIM_RELEASE', 'PT1S'),
  };
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/**
 * A platform that runs nothing but keeps time like one: preparation, a batch run and release each
 * take the configured time. For demos and tests of the lifecycle. An executable's environment may set
 * SIMULATED_PREPARE_MS, SIMULATED_RUN_MS and SIMULATED_EXIT_CODE to change its own run.
 */
export class SimulatedPlatform implements PlatformAdapter {
  readonly name = 'simulated';

  constructor(private readonly t: SimulatedTimings) {}

  private env(ctx: PlatformContext): Record<string, string> {
    const exe = ctx.record.components.find((c) => c.role === 'executable')?.spec as DockerContainer | undefined;
    return exe?.environment ?? {};
  }

  private ms(ctx: PlatformContext, name: string, fallback: number): number {
    const v = Number(this.env(ctx)[name]);
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  }

  async prepare(ctx: PlatformContext): Promise<StepOutput> {
    if (num(ctx.state.readyAt) !== undefined) return {};
    return { state: { readyAt: Date.now() + this.ms(ctx, 'SIMULATED_PREPARE_MS', this.t.prepareMs) } };
  }

  async start(ctx: PlatformContext): Promise<StepOutput> {
    if (num(ctx.state.startedAt) !== undefined) return {};
    return { state: { startedAt: Date.now() } };
  }

  async status(ctx: PlatformContext): Promise<RunStatus & StepOutput> {
    const readyAt = num(ctx.state.readyAt);
    const startedAt = num(ctx.state.startedAt);
    if (readyAt === undefined || Date.now() < readyAt) return { status: 'preparing' };
    if (startedAt === undefined) return { status: 'ready' };
    if (ctx.record.execution.interactive || Date.now() < startedAt + this.ms(ctx, 'SIMULATED_RUN_MS', this.t.runMs)) {
      return { status: 'running', access: ctx.record.execution.interactive ? [{ protocol: 'HTTP', location: `http://simulated.invalid/${ctx.record.execution.uuid}/` }] : [] };
    }
    const exitCode = Number(this.env(ctx).SIMULATED_EXIT_CODE ?? 0);
    return { status: 'finished', exitCode, logTail: [`simulated run finished with exit code ${exitCode}`] };
  }

  async release(ctx: PlatformContext): Promise<StepOutput & { done: boolean }> {
    const releasedAt = num(ctx.state.releasedAt);
    if (releasedAt === undefined) {
      return { done: this.t.releaseMs === 0, state: { releasedAt: Date.now() + this.t.releaseMs } };
    }
    return { done: Date.now() >= releasedAt };
  }
}
