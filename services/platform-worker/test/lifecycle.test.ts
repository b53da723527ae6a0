import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { findExecution, type ExecutionRecord } from '@eb/db';
import { Kinds } from '@eb/schema';
import { applyClientUpdate } from '@eb/core';
import { quietLogger, until } from '@eb/tests/support/env.js';
import type { OfferSpec } from '@eb/tests/support/offers.js';
import { executionPhases, startHarness, type Harness } from './harness.js';
import { SimulatedPlatform } from '../src/platforms/simulated/index.js';
import { reconcileOnce } from '../src/reconcile/reconciler.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(new SimulatedPlatform({ prepareMs: 300, runMs: 300, releaseMs: 100 }), { timing: { prepareGraceMs: 2000 } });
});
afterAll(() => h.stop());

const acceptedExecution = (spec: OfferSpec, enqueue = true) => h.run(spec, { enqueue });
const phases = executionPhases;
const finalRecord = (uuid: string, _terminal?: string[]) => h.ended(uuid);
const bookingReleased = async (uuid: string) =>
  (await h.db.db.selectFrom('bookings').select('released_at').where('execution_uuid', '=', uuid).executeTakeFirstOrThrow()).released_at !== null;

describe('simulated lifecycle', () => {
  test('an accepted batch execution goes through every phase once, in order, and gives back its booking', async () => {
    const uuid = await acceptedExecution({ prepareMs: 300, durationMs: 60_000 });
    const r = await finalRecord(uuid, ['COMPLETED', 'FAILED', 'CANCELLED']);
    expect(phases(r)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
    expect(r.components.every((c) => c.phase === 'COMPLETED')).toBe(true);
    expect(await bookingReleased(uuid)).toBe(true);
    const times = r.history.map((h) => h.at.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  test('a start time in the future is waited for with a delayed job', async () => {
    const uuid = await acceptedExecution({ startInMs: 1500, prepareMs: 300 });
    const r = await finalRecord(uuid, ['COMPLETED']);
    const preparing = r.history.find((h) => h.phase === 'PREPARING')!;
    expect(preparing.at.getTime()).toBeGreaterThanOrEqual(r.execution.prepare_start.getTime());
  });

  test('a non-zero exit code fails the execution with the code in its messages, and it is still released', async () => {
    const uuid = await acceptedExecution({ environment: { SIMULATED_EXIT_CODE: '3' } });
    const r = await finalRecord(uuid, ['FAILED', 'COMPLETED']);
    expect(r.execution.phase).toBe('FAILED');
    expect(r.execution.messages).toContainEqual(expect.objectContaining({ kind: 'urn:exit-code', level: 'ERROR', values: expect.objectContaining({ code: '3' }) }));
    await until(() => bookingReleased(uuid), 5000);
  });

  test('a longer available duration given while AVAILABLE keeps it available until the new end', async () => {
    const uuid = await acceptedExecution({ interactive: true, prepareMs: 300, durationMs: 1500, releaseMs: 100 });
    await until(async () => (await findExecution(h.db.db, uuid))?.execution.phase === 'AVAILABLE', 5000);
    const out = await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:integer-delta-update', path: '/schedule/available/duration', delta: 3 }, quietLogger);
    expect(out.outcome).toBe('applied');
    const r = await finalRecord(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    const at = (phase: string) => r.history.find((x) => x.component_uuid === null && x.phase === phase)!.at.getTime();
    expect(r.execution.available_ms).toBe(4500);
    // Released at the new end (the offer's own end was 1.5 s after AVAILABLE began).
    expect(at('RELEASING')).toBeGreaterThanOrEqual(r.execution.release_start.getTime());
    expect(at('RELEASING') - at('AVAILABLE')).toBeGreaterThan(2500);
  }, 20_000);

  test('cancel during PREPARING releases the platform and ends CANCELLED', async () => {
    const uuid = await acceptedExecution({ prepareMs: 5000, durationMs: 60_000, environment: { SIMULATED_PREPARE_MS: '60000' } });
    await until(async () => (await findExecution(h.db.db, uuid))?.execution.phase === 'PREPARING', 5000);
    const out = await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    expect(out.outcome).toBe('applied');
    await until(() => bookingReleased(uuid), 5000);
    const r = (await findExecution(h.db.db, uuid))!;
    expect(r.execution.phase).toBe('CANCELLED');
    // Every component was released on the platform.
    const state = r.execution.platform_state as Record<string, { released?: boolean }>;
    for (const c of r.components) expect(state[c.uuid]?.released).toBe(true);
    expect(phases(r)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'CANCELLED']);
  });
});

describe('cancel at any phase', () => {
  test('WAITING (start in the future) and AVAILABLE (interactive) both end CANCELLED with everything released', async () => {
    const waiting = await acceptedExecution({ startInMs: 60_000 });
    const interactive = await acceptedExecution({ interactive: true, durationMs: 60_000 });
    await h.inPhase(waiting, 'WAITING');
    await h.inPhase(interactive, 'AVAILABLE');
    for (const uuid of [waiting, interactive]) {
      const out = await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
      expect(out.outcome).toBe('applied');
    }
    for (const uuid of [waiting, interactive]) {
      const r = await h.ended(uuid);
      expect(r.execution.phase).toBe('CANCELLED');
      expect(r.components.filter((c) => c.role !== 'volume').every((c) => c.phase === 'CANCELLED')).toBe(true);
    }
  });
});

describe('nothing lost, nothing twice', () => {
  test('a step owed in PostgreSQL but missing from Redis is found by the reconciler and run', async () => {
    const uuid = await acceptedExecution({}, false);
    const report = await reconcileOnce(h.db.db, h.queue, h.platform, quietLogger);
    expect(report.enqueued).toBeGreaterThanOrEqual(1);
    const r = await finalRecord(uuid, ['COMPLETED']);
    expect(phases(r)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
  });

  test('duplicate and late jobs for a phase change nothing', async () => {
    const uuid = await acceptedExecution({});
    // Copies under other ids, as a restored Redis or a second reconciler might add.
    for (let i = 0; i < 5; i++) await h.queue.add('step', { uuid, phase: 'ACCEPTED' }, { jobId: `dup-${uuid}-${i}` });
    const r = await finalRecord(uuid, ['COMPLETED']);
    await h.queue.add('step', { uuid, phase: 'PREPARING' }, { jobId: `late-${uuid}` });
    await new Promise((res) => setTimeout(res, 500));
    const after = (await findExecution(h.db.db, uuid))!;
    expect(phases(after)).toEqual(phases(r));
    expect(new Set(phases(after)).size).toBe(phases(after).length);
  });
});

describe('component order', () => {
  const staged = (environment: Record<string, string> = {}, startInMs = 0): OfferSpec => ({
    startInMs, prepareMs: 2000, environment,
    extra: [
      { role: 'storage', name: 'scratch', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
      { role: 'data', name: 'input', kind: Kinds.simpleData, spec: { location: 'http://example.org/x', storage: 'scratch' } },
      { role: 'volume', name: 'mount', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'input' } },
    ],
  });
  const at = (r: ExecutionRecord, role: string, phase: string) => {
    const c = r.components.find((x) => x.role === role)!;
    const h = r.history.find((x) => x.component_uuid === c.uuid && x.phase === phase);
    if (!h) throw new Error(`${role} never reached ${phase}`);
    return Number(h.id);
  };

  test('storage, then data into it, then compute, then the executable; release data first, storage last', async () => {
    const uuid = await acceptedExecution(staged());
    const r = await finalRecord(uuid, ['COMPLETED', 'FAILED', 'CANCELLED']);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(at(r, 'storage', 'AVAILABLE')).toBeLessThan(at(r, 'data', 'PREPARING'));
    expect(at(r, 'data', 'AVAILABLE')).toBeLessThan(at(r, 'compute', 'PREPARING'));
    expect(at(r, 'compute', 'AVAILABLE')).toBeLessThan(at(r, 'executable', 'PREPARING'));
    expect(at(r, 'data', 'COMPLETED')).toBeLessThan(at(r, 'executable', 'RELEASING'));
    expect(at(r, 'executable', 'COMPLETED')).toBeLessThan(at(r, 'storage', 'RELEASING'));
    // Each component passed through each phase once.
    const componentRows = r.history.filter((h) => h.component_uuid !== null).map((h) => `${h.component_uuid}:${h.phase}`);
    expect(new Set(componentRows).size).toBe(componentRows.length);
  });

  test('storage is prepared at once; data and compute wait for the booked start', async () => {
    const uuid = await acceptedExecution(staged({}, 1500));
    const r = await finalRecord(uuid, ['COMPLETED', 'FAILED', 'CANCELLED']);
    const start = r.execution.prepare_start.getTime();
    const time = (role: string, phase: string) => r.history.find((h) => Number(h.id) === at(r, role, phase))!.at.getTime();
    expect(time('storage', 'AVAILABLE')).toBeLessThan(start);
    expect(time('data', 'PREPARING')).toBeGreaterThanOrEqual(start);
    expect(phases(r)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
  });

  test('a data download that fails fails the execution early and releases everything', async () => {
    const uuid = await acceptedExecution(staged({ SIMULATED_DATA_FAIL: '1' }));
    const r = await finalRecord(uuid, ['FAILED', 'COMPLETED', 'CANCELLED']);
    expect(r.execution.phase).toBe('FAILED');
    const data = r.components.find((c) => c.role === 'data')!;
    expect(data.phase).toBe('FAILED');
    expect(data.messages[0]).toMatchObject({ kind: 'urn:platform-failure', values: expect.objectContaining({ component: 'input' }) });
    // The executable never started preparing.
    const exe = r.components.find((c) => c.role === 'executable')!;
    expect(r.history.some((h) => h.component_uuid === exe.uuid && h.phase === 'PREPARING')).toBe(false);
    await until(() => bookingReleased(uuid), 5000);
    const state = (await findExecution(h.db.db, uuid))!.execution.platform_state as Record<string, { released?: boolean }>;
    expect(r.components.filter((c) => c.role !== 'volume').every((c) => state[c.uuid]?.released)).toBe(true);
  });
});
