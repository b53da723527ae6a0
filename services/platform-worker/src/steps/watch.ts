import { findExecutionRow, type Db } from '@eb/db';

export interface StepWatch {
  signal: AbortSignal;
  stop(): void;
}

/**
 * Watches a step while it runs: aborts its signal when the execution leaves the phase the step was made
 * for (a cancel from the API, on any replica) or when `deadline` passes, so a download that would run
 * on stops within a poll interval. The database is the one place every process sees the cancel.
 */
export function watchStep(db: Db, uuid: string, phase: string, deadline: number | undefined, everyMs = 500): StepWatch {
  const controller = new AbortController();
  const check = async () => {
    if (deadline !== undefined && Date.now() > deadline) {
      controller.abort(new Error(`preparation passed its deadline, ${new Date(deadline).toISOString()}`));
      return;
    }
    const row = await findExecutionRow(db, uuid).catch(() => undefined);
    if (row && row.phase !== phase) controller.abort(new Error(`the execution is now ${row.phase}`));
  };
  const timer = setInterval(() => { void check(); }, everyMs);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}
