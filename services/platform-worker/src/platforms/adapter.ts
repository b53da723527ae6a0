import type { MessageItem } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';
import type { AccessPoint } from '@eb/core';

/**
 * What an adapter gets for each call: the execution as stored, the component the call is about, and
 * the state the adapter saved for that component earlier (kept in PostgreSQL, so any worker can go on).
 */
export interface ComponentContext {
  record: ExecutionRecord;
  component: ComponentRow;
  state: Record<string, unknown>;
  /** State saved for the other components (e.g. the directory a storage component was given). */
  stateOf(componentUuid: string): Record<string, unknown>;
  /** Records messages on the component at once, for long calls that report as they go. */
  report?(messages: MessageItem[]): Promise<void>;
  /**
   * Aborted when the execution leaves the phase this step was made for (a cancel) or its preparation
   * passes the latest time the offer allows: long calls (downloads) stop at once.
   */
  signal?: AbortSignal;
  /** Records how long a download from a data source took (offers estimate staging time from it). */
  recordTransfer?(source: string, bytes: number, ms: number): Promise<void>;
}

/** The owner's token for an execution, when the broker keeps one (see credentials). */
export type OwnerToken = (executionUuid: string) => Promise<string | undefined>;

/** What an adapter hands back: state to merge into the component's, and messages to show on it. */
export interface StepOutput {
  state?: Record<string, unknown>;
  messages?: MessageItem[];
}

export type ComponentStatus =
  /** Still being prepared (storage being created, data downloading, image pulling, port not yet answering). */
  | { status: 'preparing' }
  /** Prepared; an executable then needs `start`. */
  | { status: 'ready' }
  /** In service: storage usable, data staged, executable running (and answering on its ports). */
  | { status: 'available'; access?: AccessPoint[] }
  /** A batch executable that has ended. */
  | { status: 'finished'; exitCode: number; logTail?: string[] }
  | { status: 'failed'; reason: string };

export type OutputStream = 'stdout' | 'stderr' | 'notebook';

/** The end of what an executable printed on one stream, and how much it printed in all. */
export interface CapturedOutput {
  content: Buffer;
  totalBytes: number;
}

/**
 * The one interface every platform implements, per component: storage, data, compute, executable.
 * Each call must be idempotent: a worker can die after the platform acted and before the database
 * recorded it, and the step then runs again, possibly on another worker.
 */
export interface PlatformAdapter {
  readonly name: string;
  /** Starts preparing a component whose dependencies are all available. */
  prepare(ctx: ComponentContext): Promise<StepOutput>;
  /** Starts a prepared executable. */
  start(ctx: ComponentContext): Promise<StepOutput>;
  status(ctx: ComponentContext): Promise<ComponentStatus & StepOutput>;
  /** Stops and removes what the component holds on the platform; `done` is false while that goes on. */
  release(ctx: ComponentContext): Promise<StepOutput & { done: boolean }>;
  /** The streams `output` can read (none when it is absent). */
  readonly outputStreams?: readonly OutputStream[];
  /**
   * What the executable has printed on `stream` so far (its last `maxBytes`), while it runs and after
   * it ends until it is released; undefined when there is nothing (yet) to read it from.
   */
  output?(ctx: ComponentContext, stream: OutputStream, maxBytes: number): Promise<CapturedOutput | undefined>;
  /**
   * Resolves once the running executable has ended, rejects when that cannot be watched: the worker then
   * looks at once instead of at its next poll (which backs off to seconds). Polling stays the rule.
   */
  whenEnded?(ctx: ComponentContext): Promise<void>;
  /** Lets go of what the adapter keeps for itself, not for an execution (at the worker's shutdown). */
  close?(): Promise<void>;
}

/** An error that retrying will not cure (bad image, refused request): the execution fails at once. */
export class PermanentPlatformError extends Error {}
