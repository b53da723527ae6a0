import type { MessageItem } from '@eb/schema';
import type { ExecutionRecord } from '@eb/db';
import type { AccessPoint } from '@eb/core';

/** What an adapter gets for each call: the execution as stored, and the state it saved earlier. */
export interface PlatformContext {
  record: ExecutionRecord;
  state: Record<string, unknown>;
}

/** What an adapter hands back: state to merge into the execution's platform_state, and messages to show. */
export interface StepOutput {
  state?: Record<string, unknown>;
  messages?: MessageItem[];
}

export type RunStatus =
  | { status: 'preparing' }
  | { status: 'ready' }
  | { status: 'running'; access?: AccessPoint[] }
  | { status: 'finished'; exitCode: number; logTail?: string[] }
  | { status: 'failed'; reason: string };

/**
 * The one interface every platform implements. Each call must be idempotent: a worker can die after
 * the platform acted and before the database recorded it, and the step is then run again.
 */
export interface PlatformAdapter {
  readonly name: string;
  /** Starts creating storage, staging data and fetching images. */
  prepare(ctx: PlatformContext): Promise<StepOutput>;
  /** Starts the executable once everything it needs is ready. */
  start(ctx: PlatformContext): Promise<StepOutput>;
  /** Where the work stands on the platform. */
  status(ctx: PlatformContext): Promise<RunStatus & StepOutput>;
  /** Stops and removes what the execution holds; `done` is false while that is still under way. */
  release(ctx: PlatformContext): Promise<StepOutput & { done: boolean }>;
}

/** An error that retrying will not cure (bad image, refused request): the execution fails at once. */
export class PermanentPlatformError extends Error {}
