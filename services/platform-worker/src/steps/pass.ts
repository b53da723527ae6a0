import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { message, type ExecutionPhase, type LifecyclePhase, type MessageItem } from '@eb/schema';
import {
  appendComponentMessages, appendExecutionMessages, moveComponent, setPlatformState, transitionExecution,
  type ComponentRow, type Db, type ExecutionRecord,
} from '@eb/db';
import type { StepJob } from '@eb/core';
import type { ComponentContext, PlatformAdapter, StepOutput } from '../platforms/adapter.js';
import type { OutputCapture, OutputSettings } from './output.js';
import { lookAt, type Next } from './next.js';
import { pollDelay, type StepTiming } from './timing.js';

export interface StepDeps {
  db: Db;
  queue: Queue<StepJob>;
  platform: PlatformAdapter;
  timing: StepTiming;
  logger: Logger;
  onTransition?: (uuid: string, from: ExecutionPhase, to: ExecutionPhase) => void;
  /** Called when a pass gave capacity back (so waiting executions may start earlier). */
  onCapacityFreed?: () => void;
  /** How executables' output is copied into the database (every 5 s, the last MiB, when unset). */
  outputs?: OutputSettings;
}

const UNDER_WAY: LifecyclePhase[] = ['INITIALIZING', 'WAITING', 'PREPARING', 'AVAILABLE', 'RUNNING'];

/**
 * One look at one execution, as stored when the pass read it: what a phase's action works with. Every
 * change it makes, of the execution or of a component, is a compare-and-set in PostgreSQL, so a pass
 * run twice (worker killed, Redis restored) applies each change once; platform calls are idempotent.
 */
export class Pass {
  constructor(
    readonly record: ExecutionRecord,
    readonly deps: StepDeps,
    readonly outputs: OutputCapture,
    /** How often this phase has polled so far: the polling backoff. */
    readonly polls: number,
    /** Aborted when the execution leaves this phase or its preparation deadline passes. */
    readonly signal?: AbortSignal,
  ) {}

  get execution() {
    return this.record.execution;
  }

  get uuid(): string {
    return this.record.execution.uuid;
  }

  /** Look again after the polling interval, but no later than `cap`. */
  poll(cap = Infinity): Next {
    return lookAt(Math.min(cap, Date.now() + pollDelay(this.polls, this.deps.timing)));
  }

  contextFor(component: ComponentRow): ComponentContext {
    const db = this.deps.db;
    const all = this.execution.platform_state as Record<string, Record<string, unknown>>;
    return {
      record: this.record, component,
      state: { ...(all[component.uuid] ?? {}) },
      stateOf: (uuid) => ({ ...(all[uuid] ?? {}) }),
      report: (messages) => appendComponentMessages(db, component.uuid, messages),
      ...(this.signal ? { signal: this.signal } : {}),
    };
  }

  /** Keeps what the platform handed back: the component's state (merged) and its messages. */
  async save(ctx: ComponentContext, out: StepOutput): Promise<void> {
    const db = this.deps.db;
    if (out.state && Object.keys(out.state).length) {
      Object.assign(ctx.state, out.state);
      await setPlatformState(db, this.uuid, { [ctx.component.uuid]: ctx.state });
      (this.execution.platform_state as Record<string, unknown>)[ctx.component.uuid] = { ...ctx.state };
    }
    if (out.messages?.length) await appendComponentMessages(db, ctx.component.uuid, out.messages);
  }

  /** The executable's output, read for good before it can be released (its container may go with it). */
  async keepOutput(ctx: ComponentContext): Promise<void> {
    if (ctx.state.outputKept) return;
    await this.outputs.final(ctx);
    await this.save(ctx, { state: { outputKept: true } });
  }

  /**
   * Moves the execution (compare-and-set on `from`, and with `onlyIfEnded` on its booked end as stored
   * now); false when it had moved on already (or its end was moved later).
   */
  async move(from: ExecutionPhase, to: ExecutionPhase, note: string, onlyIfEnded = false): Promise<boolean> {
    const moved = await transitionExecution(this.deps.db, this.uuid, from, to, note, onlyIfEnded);
    if (moved) this.deps.onTransition?.(this.uuid, from, to);
    return moved;
  }

  async moveComponent(c: ComponentRow, to: LifecyclePhase, note: string): Promise<void> {
    if (await moveComponent(this.deps.db, c.uuid, [c.phase], to, note)) c.phase = to;
  }

  /** Fails the execution from `from`, with messages on it (and on the component to blame, if any). */
  async fail(from: ExecutionPhase, messages: MessageItem[], culprit?: ComponentRow): Promise<void> {
    const db = this.deps.db;
    if (culprit) {
      await appendComponentMessages(db, culprit.uuid, messages);
      if (UNDER_WAY.includes(culprit.phase)) await this.moveComponent(culprit, 'FAILED', messages[0]?.message ?? 'failed');
    }
    await appendExecutionMessages(db, this.uuid, messages);
    await this.move(from, 'FAILED', messages[0]?.message ?? 'failed');
  }

  /** Fails the execution because a platform call failed and retrying will not help. */
  failStep(from: ExecutionPhase, reason: string): Promise<void> {
    return this.fail(from, [message('urn:platform-failure', 'ERROR', 'Step {phase} failed: {reason}', { phase: from, reason })]);
  }

  /** The access points the executable answered on. */
  accessOf(): unknown[] {
    const exe = this.record.components.find((c) => c.role === 'executable');
    const state = exe ? (this.execution.platform_state as Record<string, { access?: unknown[] }>)[exe.uuid] : undefined;
    return state?.access ?? [];
  }
}
