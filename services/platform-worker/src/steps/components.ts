import { message } from '@eb/schema';
import { findExecutionRow } from '@eb/db';
import type { Pass } from './pass.js';
import { dependenciesOf, inPrepareOrder, inReleaseOrder, waitsForStart } from './dependencies.js';

export type Prepared = 'available' | 'failed' | 'pending';

/**
 * Prepares components in dependency order, going round again while that makes progress (a component
 * that became available lets the next one start at once): 'available' once the executable is in
 * service, 'failed' when one failed (the execution has then failed) or the execution moved on.
 */
export async function prepareComponents(pass: Pass, phase: 'WAITING' | 'PREPARING'): Promise<Prepared> {
  for (let round = 0; round < 4; round++) {
    const r = await prepareRound(pass, phase);
    if (r.result !== 'pending' || !r.progress) return r.result;
  }
  return 'pending';
}

async function prepareRound(pass: Pass, phase: 'WAITING' | 'PREPARING'): Promise<{ result: Prepared; progress: boolean }> {
  const { platform, logger, db } = pass.deps;
  const e = pass.execution;
  const started = Date.now() >= e.prepare_start.getTime();
  let progress = false;
  for (const c of inPrepareOrder(pass.record)) {
    const ctx = pass.contextFor(c);
    if (c.phase === 'WAITING') {
      if (waitsForStart(c) && !started) continue;
      if (!dependenciesOf(c, pass.record).every((d) => d.phase === 'AVAILABLE')) continue;
      await pass.save(ctx, await platform.prepare(ctx));
      // A cancel may have come, and its release run, while the platform was creating this: if so,
      // release what was just made, or it would outlive the execution.
      if ((await findExecutionRow(db, e.uuid))?.phase !== phase) {
        await platform.release(ctx).catch((err: unknown) => logger.warn({ uuid: e.uuid, err: (err as Error).message }, 'late release failed'));
        return { result: 'failed', progress };
      }
      await pass.moveComponent(c, 'PREPARING', 'preparing');
      progress = true;
    }
    if (c.phase === 'PREPARING') {
      const s = await platform.status(ctx);
      await pass.save(ctx, s);
      if (s.status === 'failed') {
        await pass.fail(phase, [message('urn:platform-failure', 'ERROR', 'Preparing [{component}] failed: {reason}', {
          component: c.name ?? c.role, reason: s.reason,
        })], c);
        return { result: 'failed', progress };
      }
      if (s.status === 'ready' && c.role === 'executable') {
        // Starting is idempotent; look at it again in the next round, it may already run.
        await pass.save(ctx, await platform.start(ctx));
        progress = true;
      } else if (s.status !== 'preparing') {
        if (s.status === 'available' && s.access?.length) await pass.save(ctx, { state: { access: s.access } });
        await pass.moveComponent(c, 'AVAILABLE', c.role === 'executable' ? 'running' : 'ready');
        progress = true;
      }
    }
  }
  const lifecycle = inPrepareOrder(pass.record);
  const last = lifecycle.find((c) => c.role === 'executable') ?? lifecycle.at(-1);
  return { result: !last || last.phase === 'AVAILABLE' ? 'available' : 'pending', progress };
}

/** Releases components in order (data first, storage last); true once all are released. */
export async function releaseComponents(pass: Pass, finishing: boolean): Promise<boolean> {
  for (const c of inReleaseOrder(pass.record)) {
    const ctx = pass.contextFor(c);
    if (ctx.state.released === true) continue;
    if (finishing && ['AVAILABLE', 'RUNNING', 'PREPARING', 'WAITING'].includes(c.phase)) await pass.moveComponent(c, 'RELEASING', 'releasing');
    if (c.role === 'executable') await pass.keepOutput(ctx);
    const r = await pass.deps.platform.release(ctx);
    await pass.save(ctx, r);
    if (!r.done) return false;
    await pass.save(ctx, { state: { released: true } });
    if (finishing && c.phase === 'RELEASING') await pass.moveComponent(c, 'COMPLETED', 'released');
  }
  return true;
}
