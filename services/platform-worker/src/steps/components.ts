import { message, type LifecyclePhase } from '@eb/schema';
import type { ComponentRow } from '@eb/db';
import type { ComponentContext, ComponentStatus, StepOutput } from '../platforms/adapter.js';
import type { Pass } from './pass.js';
import { dependenciesOf, inPrepareOrder, inReleaseOrder, waitsForStart } from './dependencies.js';

export type Prepared = 'available' | 'failed' | 'pending';
/** The execution's phase as stored while its components are prepared (ACCEPTED: on its first look). */
export type Preparing = 'ACCEPTED' | 'WAITING' | 'PREPARING';

/**
 * Prepares components in dependency order, going round again while that makes progress (a component
 * that became available lets the next one start at once): 'available' once the executable is in
 * service, 'failed' when one failed (the execution has then failed) or the execution moved on.
 */
export async function prepareComponents(pass: Pass, phase: Preparing): Promise<Prepared> {
  for (let round = 0; round < 4; round++) {
    const r = await prepareRound(pass, phase);
    if (r.result !== 'pending' || !r.progress) return r.result;
  }
  return 'pending';
}

async function prepareRound(pass: Pass, phase: Preparing): Promise<{ result: Prepared; progress: boolean }> {
  const started = Date.now() >= pass.execution.prepare_start.getTime();
  let progress = false;
  for (const c of inPrepareOrder(pass.record)) {
    if (c.phase === 'WAITING') {
      if (waitsForStart(c) && !started) continue;
      if (!dependenciesOf(c, pass.record).every((d) => d.phase === 'AVAILABLE')) continue;
      if (!(await begin(pass, c, phase))) return { result: 'failed', progress };
      progress = true;
    } else if (c.phase === 'PREPARING') {
      const moved = await lookAgain(pass, c, phase);
      if (moved === 'failed') return { result: 'failed', progress };
      progress ||= moved === 'progress';
    }
  }
  const lifecycle = inPrepareOrder(pass.record);
  const last = lifecycle.find((c) => c.role === 'executable') ?? lifecycle.at(-1);
  return { result: !last || last.phase === 'AVAILABLE' ? 'available' : 'pending', progress };
}

/**
 * Has the platform make a component, and asks at once how it is (and starts an executable that is
 * ready): one that is ready straight away goes PREPARING and AVAILABLE in one change. The change is
 * made only while the execution is still in `phase`: a cancel may have come, and its release run, while
 * the platform was making this; then what was just made is released, or it would outlive the execution.
 */
async function begin(pass: Pass, c: ComponentRow, phase: Preparing): Promise<boolean> {
  const { platform } = pass.deps;
  const ctx = pass.contextFor(c);
  const made = await platform.prepare(ctx);
  Object.assign(ctx.state, made.state);
  const s = await statusStarting(pass, ctx);
  const ready = isReady(ctx, s.status);
  const out = { state: { ...made.state, ...s.state, ...(s.status === 'available' && s.access?.length ? { access: s.access } : {}) }, messages: [...(made.messages ?? []), ...(s.messages ?? [])] };
  // Stored with the execution's next move (or once this action ends), only while it is still in
  // `phase`; if it has moved on, what was just made is released again.
  pass.carryMove(c, ready ? ['PREPARING', 'AVAILABLE'] : ['PREPARING'], ready && c.role === 'executable' ? 'running' : ready ? 'ready' : 'preparing', {
    ctx, out, whilePhase: phase, made: true,
  });
  if (s.status === 'failed') await failPreparing(pass, c, phase, s.reason);
  return s.status !== 'failed';
}

/** A component under preparation: AVAILABLE once the platform says so; 'failed' if it failed. */
async function lookAgain(pass: Pass, c: ComponentRow, phase: Preparing): Promise<'failed' | 'progress' | 'none'> {
  const ctx = pass.contextFor(c);
  const s = await statusStarting(pass, ctx);
  if (s.status === 'failed') {
    pass.save(ctx, s);
    await failPreparing(pass, c, phase, s.reason);
    return 'failed';
  }
  if (!isReady(ctx, s.status)) {
    pass.save(ctx, s);
    return s.started ? 'progress' : 'none';
  }
  const out = { state: { ...s.state, ...(s.status === 'available' && s.access?.length ? { access: s.access } : {}) }, ...(s.messages ? { messages: s.messages } : {}) };
  pass.carryMove(c, ['AVAILABLE'], c.role === 'executable' ? 'running' : 'ready', { ctx, out });
  return 'progress';
}

/** In service: any answer but still preparing, or (for an executable) made but not yet running. */
function isReady(ctx: ComponentContext, status: ComponentStatus['status']): boolean {
  return status !== 'preparing' && status !== 'failed' && !(status === 'ready' && ctx.component.role === 'executable');
}

/** The platform's status of a component; an executable that is ready is started, then asked again. */
async function statusStarting(pass: Pass, ctx: ComponentContext): Promise<ComponentStatus & StepOutput & { started?: boolean }> {
  const { platform } = pass.deps;
  const s = await platform.status(ctx);
  if (s.status !== 'ready' || ctx.component.role !== 'executable') return s;
  // Starting is idempotent; ask at once whether it already runs.
  const begun = await platform.start(ctx);
  Object.assign(ctx.state, s.state, begun.state);
  const after = await platform.status(ctx);
  return { ...after, state: { ...s.state, ...begun.state, ...after.state }, messages: [...(s.messages ?? []), ...(begun.messages ?? []), ...(after.messages ?? [])], started: true };
}

async function failPreparing(pass: Pass, c: ComponentRow, phase: Preparing, reason: string): Promise<void> {
  await pass.fail(phase, [message('urn:platform-failure', 'ERROR', 'Preparing [{component}] failed: {reason}', {
    component: c.name ?? c.role, reason,
  })], c);
}

/** Releases components in order (data first, storage last); true once all are released. */
export async function releaseComponents(pass: Pass, finishing: boolean): Promise<boolean> {
  for (const c of inReleaseOrder(pass.record)) {
    const ctx = pass.contextFor(c);
    if (ctx.state.released === true) continue;
    const underWay = ['AVAILABLE', 'RUNNING', 'PREPARING', 'WAITING'].includes(c.phase);
    if (c.role === 'executable') await pass.keepOutput(ctx);
    const r = await pass.deps.platform.release(ctx);
    if (!r.done) {
      if (finishing && underWay) await pass.moveComponent(c, 'RELEASING', 'releasing', { ctx, out: r });
      else pass.save(ctx, r);
      return false;
    }
    // Released at once: RELEASING and COMPLETED in one change.
    const out = { state: { ...r.state, released: true }, ...(r.messages ? { messages: r.messages } : {}) };
    if (finishing && (underWay || c.phase === 'RELEASING')) pass.carryMove(c, underWay ? ['RELEASING', 'COMPLETED'] : ['COMPLETED'], 'released', { ctx, out });
    else pass.save(ctx, out);
  }
  return true;
}
