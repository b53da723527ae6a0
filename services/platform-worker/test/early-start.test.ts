import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { findExecution } from '@eb/db';
import { applyClientUpdate } from '@eb/core';
import { quietLogger, until } from '@eb/tests/support/env.js';
import { startHarness, type Harness } from './harness.js';
import { SimulatedPlatform } from '../src/platforms/simulated/index.js';

// Early start on one small platform per test: what may move, how early, and in what order.
const MIN = 60_000;
const sim = () => new SimulatedPlatform({ prepareMs: 0, runMs: 60_000, releaseMs: 0 });
const quick = { SIMULATED_RUN_MS: '500' };
const startOf = async (h: Harness, uuid: string) => (await findExecution(h.db.db, uuid))!.execution.prepare_start.getTime();
const cancel = (h: Harness, uuid: string) =>
  applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);

describe('early start', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(sim(), { capacity: { cores: 1, memoryGib: 4 } }); });
  afterAll(() => h.stop());

  test('a batch execution moves no earlier than its requested window; an interactive one keeps its booked start unless allowed', async () => {
    const now = Date.now();
    const blocker = await h.run({ prepareMs: 100, durationMs: 5 * MIN, environment: quick, earliestInMs: 0 });
    // All booked for later, behind the blocker; each may start from a different time, or not at all.
    const windowed = await h.run({ startInMs: 20 * MIN, prepareMs: 100, durationMs: MIN, environment: quick, earliestInMs: 4000 });
    const session = await h.run({ startInMs: 40 * MIN, prepareMs: 100, durationMs: MIN, interactive: true });
    const allowed = await h.run({ startInMs: 60 * MIN, prepareMs: 100, durationMs: MIN, interactive: true, earliestInMs: 0 });
    await h.ended(blocker);

    // The windowed one is moved to the start of its window, not to now.
    await until(async () => (await startOf(h, windowed)) < now + 10 * MIN, 10_000);
    expect(Math.abs((await startOf(h, windowed)) - (now + 4000))).toBeLessThan(1500);
    const done = await h.ended(windowed);
    expect(done.history.find((x) => x.phase === 'PREPARING' && !x.component_uuid)!.at.getTime()).toBeGreaterThanOrEqual(now + 3000);
    expect(done.execution.messages).toContainEqual(expect.objectContaining({ kind: 'urn:schedule-change' }));

    // Then the interactive session its owner allowed to start early does; the other keeps its start.
    await h.inPhase(allowed, 'AVAILABLE', 15_000);
    const kept = (await findExecution(h.db.db, session))!;
    expect(kept.execution.phase).toBe('WAITING');
    expect(kept.execution.prepare_start.getTime()).toBeGreaterThan(now + 39 * MIN);
    for (const u of [allowed, session]) await cancel(h, u);
    for (const u of [allowed, session]) await h.ended(u);
  }, 60_000);
});

describe('order', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(sim(), { capacity: { cores: 4, memoryGib: 16 } }); });
  afterAll(() => h.stop());

  test('a smaller execution booked later fills a gap the larger one booked first cannot use, and the larger one then goes first', async () => {
    const now = Date.now();
    // One core in use for a while: 3 free now.
    const running = await h.run({ prepareMs: 100, durationMs: 30 * MIN, cores: 1, earliestInMs: 0 });
    await h.inPhase(running, 'AVAILABLE');
    const large = await h.run({ startInMs: 40 * MIN, prepareMs: 100, durationMs: MIN, cores: 4, environment: quick, earliestInMs: 0 });
    const small = await h.run({ startInMs: 80 * MIN, prepareMs: 100, durationMs: MIN, cores: 2, environment: quick, earliestInMs: 0 });
    const later = await h.run({ startInMs: 120 * MIN, prepareMs: 100, durationMs: MIN, cores: 4, environment: quick, earliestInMs: 0 });
    h.starter.poke();
    // The small one fits beside the running one; the large one does not, and keeps its booked start.
    await h.ended(small);
    expect(await startOf(h, large)).toBeGreaterThan(now + 39 * MIN);
    // Once the running one is cancelled, the large one booked first starts before the later one of its size.
    await cancel(h, running);
    const first = await h.ended(large);
    const second = await h.ended(later);
    expect(first.execution.prepare_start.getTime()).toBeLessThan(second.execution.prepare_start.getTime());
    expect(second.execution.prepare_start.getTime()).toBeLessThan(now + 10 * MIN);
  }, 60_000);
});
