import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { componentEffects, message, type ExecutionPhase, type LifecyclePhase, type MessageItem } from '@eb/schema';
import {
  appendComponentMessages, moveComponent, recordTransfer, saveComponent, saveOutputs, transitionExecutionAt,
  type CapturedStream, type ComponentRow, type Db, type ExecutionRecord, type MoveOptions,
} from '@eb/db';
import { CarriedChanges, asComponentChange, type Carried } from './carried.js';
import type { StepJob } from '@eb/core';
import type { ComponentContext, PlatformAdapter, StepOutput } from '../platforms/adapter.js';
import type { OutputCapture, OutputSettings } from './output.js';
import type { EndWatch } from './end-watch.js';
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
  /**
   * Set when something this pass tried did not apply as it expected (a compare-and-set found another
   * phase): what it holds in memory may then be out of date, and the next action reads it again.
   */
  stale = false;

  /** Component changes not stored yet: they go with the next move of the execution, or by flush(). */
  private readonly carried = new CarriedChanges();
  /** The executable's final output, read and not stored yet: likewise. */
  private carriedOutputs: CapturedStream[] = [];

  constructor(
    readonly record: ExecutionRecord,
    readonly deps: StepDeps,
    readonly outputs: OutputCapture,
    /** Wakes this execution when its running executable ends. */
    readonly watchEnd: EndWatch,
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
      recordTransfer: (source, bytes, ms) => recordTransfer(db, source, bytes, ms),
      ...(this.signal ? { signal: this.signal } : {}),
    };
  }

  /**
   * Keeps what the platform handed back: the component's state (merged) and its messages, stored with
   * the execution's next move or when the action ends.
   */
  save(ctx: ComponentContext, out: StepOutput): void {
    const state = this.merge(ctx, out) ? ctx.state : undefined;
    this.carried.add(ctx.component, { ...(state ? { state } : {}), ...(out.messages?.length ? { messages: out.messages } : {}) });
  }

  /**
   * Moves a component along `path` with what the platform answered, stored with the execution's next
   * move (or when the action ends); `made` when this pass made it on the platform, so that it is
   * released again if the change cannot be stored (the execution moved on meanwhile).
   */
  carryMove(c: ComponentRow, path: LifecyclePhase[], note: string, extra: { ctx?: ComponentContext; out?: StepOutput; whilePhase?: ExecutionPhase; made?: boolean } = {}): void {
    const state = extra.ctx && this.merge(extra.ctx, extra.out) ? extra.ctx.state : undefined;
    this.carried.add(c, {
      path, note, ...(state ? { state } : {}), ...(extra.out?.messages?.length ? { messages: extra.out.messages } : {}),
      ...(extra.whilePhase ? { whilePhase: extra.whilePhase } : {}), made: extra.made ?? false,
    });
  }

  /** Stores the carried component changes on their own, each its own compare-and-set. */
  async flush(): Promise<void> {
    await this.keepOutputs(this.takeOutputs());
    for (const c of this.carried.take()) {
      const change = asComponentChange(c);
      if (!change.path.length) {
        await saveComponent(this.deps.db, this.uuid, change.uuid, change.state, change.messages ? [...change.messages] : undefined);
        continue;
      }
      const moved = await moveComponent(this.deps.db, change.uuid, [change.from], change.path, change.notes.at(-1), {
        ...(change.state ? { state: change.state } : {}), ...(change.messages ? { messages: [...change.messages] } : {}),
        ...(c.whilePhase ? { whilePhase: c.whilePhase } : {}),
      });
      if (!moved) await this.notKept([c]);
    }
  }

  private takeOutputs(): CapturedStream[] {
    const outputs = this.carriedOutputs;
    this.carriedOutputs = [];
    return outputs;
  }

  /** Keeps final output on its own (it is kept whatever became of the execution). */
  private async keepOutputs(outputs: CapturedStream[]): Promise<void> {
    await saveOutputs(this.deps.db, this.uuid, outputs, true);
  }

  /** Carried changes the database refused: what is held is out of date, and what was made goes again. */
  private async notKept(carried: Carried[]): Promise<void> {
    this.stale = true;
    for (const c of carried.filter((x) => x.made)) {
      await this.deps.platform.release(this.contextFor(c.component))
        .catch((err: unknown) => this.deps.logger.warn({ uuid: this.uuid, err: (err as Error).message }, 'late release failed'));
    }
  }

  /** Merges a platform answer's state into the component's, here and in the record; true if there was any. */
  private merge(ctx: ComponentContext, out: StepOutput | undefined): boolean {
    if (!out?.state || Object.keys(out.state).length === 0) return false;
    Object.assign(ctx.state, out.state);
    (this.execution.platform_state as Record<string, unknown>)[ctx.component.uuid] = { ...ctx.state };
    return true;
  }

  /**
   * The executable's output, read for good before it can be released (its container may go with it),
   * kept with any messages about how it ended.
   */
  async keepOutput(ctx: ComponentContext, messages: MessageItem[] = []): Promise<void> {
    if (ctx.state.outputKept) {
      if (messages.length) this.save(ctx, { messages });
      return;
    }
    this.carriedOutputs = await this.outputs.final(ctx);
    this.save(ctx, { state: { outputKept: true }, messages });
  }

  /**
   * Moves the execution (compare-and-set on `from`, and with `onlyIfEnded` on its booked end as stored
   * now) to `to`, or through a path of phases in one change, keeping `state` in its platform state;
   * false when it had moved on already (or its end was moved later). The carried component changes go
   * with it. What the move does to the components (@eb/schema's componentEffects) is applied to the
   * record here too.
   */
  async move(from: ExecutionPhase, to: ExecutionPhase | ExecutionPhase[], note: string, opts: Omit<MoveOptions, 'components' | 'outputs'> = {}): Promise<boolean> {
    const path = typeof to === 'string' ? [to] : to;
    const carried = this.carried.take();
    const outputs = this.takeOutputs();
    const modified = await transitionExecutionAt(this.deps.db, this.uuid, from, path, note, { ...opts, components: carried.map(asComponentChange), outputs });
    if (!modified) {
      await this.keepOutputs(outputs);
      await this.notKept(carried);
      return false;
    }
    let previous = from;
    for (const next of path) {
      this.deps.onTransition?.(this.uuid, previous, next);
      const effect = componentEffects[next];
      if (effect) for (const c of this.record.components) if (effect.from.includes(c.phase)) c.phase = effect.to;
      previous = next;
    }
    this.execution.phase = previous;
    this.execution.modified = modified;
    if (opts.state) Object.assign(this.execution.platform_state as Record<string, unknown>, opts.state);
    return true;
  }

  /**
   * Moves a component (compare-and-set on its phase), in the same statement keeping what the platform
   * answered for it (`out`, merged into its state) and, with `whilePhase`, only while the execution is
   * still in that phase. False when it did not move.
   */
  async moveComponent(c: ComponentRow, to: LifecyclePhase | LifecyclePhase[], note: string, extra: { ctx?: ComponentContext; out?: StepOutput; whilePhase?: ExecutionPhase } = {}): Promise<boolean> {
    // Its compare-and-set is on the phase as stored: what is carried is stored first.
    await this.flush();
    const state = extra.ctx && this.merge(extra.ctx, extra.out) ? extra.ctx.state : undefined;
    const moved = await moveComponent(this.deps.db, c.uuid, [c.phase], to, note, {
      ...(state ? { state } : {}),
      ...(extra.out?.messages?.length ? { messages: extra.out.messages } : {}),
      ...(extra.whilePhase ? { whilePhase: extra.whilePhase } : {}),
    });
    if (moved) c.phase = typeof to === 'string' ? to : to.at(-1)!;
    else this.stale = true;
    return moved;
  }

  /** Fails the execution from `from`, with messages on it (and on the component to blame, if any). */
  async fail(from: ExecutionPhase, messages: MessageItem[], culprit?: ComponentRow): Promise<void> {
    const db = this.deps.db;
    // What the pass learnt before the failure is stored first, so messages stay in the order they came.
    await this.flush();
    if (culprit) {
      await appendComponentMessages(db, culprit.uuid, messages);
      if (UNDER_WAY.includes(culprit.phase)) await this.moveComponent(culprit, 'FAILED', messages[0]?.message ?? 'failed');
    }
    await this.move(from, 'FAILED', messages[0]?.message ?? 'failed', { messages });
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
