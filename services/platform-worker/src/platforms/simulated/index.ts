import { envDurationMs } from '@eb/core';
import { message, type DockerContainer, type MessageItem } from '@eb/schema';
import type { CapturedOutput, ComponentContext, ComponentStatus, OutputStream, PlatformAdapter, StepOutput } from '../adapter.js';
import { tailOf } from '../output-tail.js';

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

/** Said on every execution's executable, so nobody mistakes a simulated COMPLETED for a real run. */
export const SIMULATED_NOTICE = 'urn:simulated-platform';
const notice = (): MessageItem => message(SIMULATED_NOTICE, 'WARN',
  'Simulated platform (EB_PLATFORM=simulated): nothing really runs; the phases and timings are made up');

/**
 * A platform that runs nothing but keeps time like one: storage and compute are ready at once, data
 * staging and image preparation take the prepare time, a batch run the run time, release the release
 * time. For demos and tests of the lifecycle. An executable's environment may set SIMULATED_PREPARE_MS,
 * SIMULATED_RUN_MS and SIMULATED_EXIT_CODE; SIMULATED_DATA_FAIL=1 makes data staging fail;
 * SIMULATED_STDOUT and SIMULATED_STDERR are what it prints once started.
 */
export class SimulatedPlatform implements PlatformAdapter {
  readonly name = 'simulated';

  constructor(private readonly t: SimulatedTimings) {}

  private env(ctx: ComponentContext): Record<string, string> {
    const exe = ctx.record.components.find((c) => c.role === 'executable')?.spec as DockerContainer | undefined;
    return exe?.environment ?? {};
  }

  private ms(ctx: ComponentContext, name: string, fallback: number): number {
    const v = Number(this.env(ctx)[name]);
    return this.env(ctx)[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback;
  }

  async prepare(ctx: ComponentContext): Promise<StepOutput> {
    if (num(ctx.state.readyAt) !== undefined) return {};
    const role = ctx.component.role;
    const ms = role === 'data' || role === 'executable' ? this.ms(ctx, 'SIMULATED_PREPARE_MS', this.t.prepareMs) : 0;
    return { state: { readyAt: Date.now() + ms }, ...(role === 'executable' ? { messages: [notice()] } : {}) };
  }

  async start(ctx: ComponentContext): Promise<StepOutput> {
    if (num(ctx.state.startedAt) !== undefined) return {};
    return { state: { startedAt: Date.now() } };
  }

  async status(ctx: ComponentContext): Promise<ComponentStatus & StepOutput> {
    const readyAt = num(ctx.state.readyAt);
    if (readyAt === undefined || Date.now() < readyAt) return { status: 'preparing' };
    if (ctx.component.role === 'data' && this.env(ctx).SIMULATED_DATA_FAIL === '1') {
      return { status: 'failed', reason: `simulated download failure for ${ctx.component.name ?? ctx.component.uuid}` };
    }
    if (ctx.component.role !== 'executable') return { status: 'available' };
    const startedAt = num(ctx.state.startedAt);
    if (startedAt === undefined) return { status: 'ready' };
    const e = ctx.record.execution;
    if (e.interactive || Date.now() < startedAt + this.ms(ctx, 'SIMULATED_RUN_MS', this.t.runMs)) {
      return { status: 'available', access: e.interactive ? [{ protocol: 'HTTP', location: `http://simulated.invalid/${e.uuid}/` }] : [] };
    }
    const exitCode = Number(this.env(ctx).SIMULATED_EXIT_CODE ?? 0);
    return { status: 'finished', exitCode, logTail: [`simulated run finished with exit code ${exitCode}`] };
  }

  readonly outputStreams: readonly OutputStream[] = ['stdout', 'stderr'];

  async output(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined> {
    if (ctx.component.role !== 'executable' || num(ctx.state.startedAt) === undefined) return undefined;
    const env = this.env(ctx);
    const text = stream === 'stdout' ? env.SIMULATED_STDOUT ?? `simulated run of ${ctx.component.name ?? ctx.component.uuid}\n` : env.SIMULATED_STDERR ?? '';
    return tailOf(text, maxBytes);
  }

  async release(ctx: ComponentContext): Promise<StepOutput & { done: boolean }> {
    const ms = ctx.component.role === 'executable' ? this.t.releaseMs : 0;
    const releasedAt = num(ctx.state.releasedAt);
    if (releasedAt === undefined) return { done: ms === 0, state: { releasedAt: Date.now() + ms } };
    return { done: Date.now() >= releasedAt };
  }
}
