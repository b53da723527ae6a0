import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { findExecution, readOutput, saveOutputs, transitionExecution, transitionExecutionAt, type ComponentChange, type ExecutionRecord } from '@eb/db';
import { message } from '@eb/schema';
import { wakeExecution } from '@eb/core';
import { startHarness, type Harness } from './harness.js';
import { SimulatedPlatform } from '../src/platforms/simulated/index.js';

// Component changes stored with their execution's move, in one statement: the worker's way of keeping
// what it learnt of the components in fewer round trips. Nothing is half applied.
let h: Harness;

beforeAll(async () => {
  h = await startHarness(new SimulatedPlatform({ prepareMs: 0, runMs: 0, releaseMs: 0 }));
});
afterAll(() => h.stop());

async function waitingExecution(): Promise<ExecutionRecord> {
  const uuid = await h.run({}, { enqueue: false });
  expect(await transitionExecution(h.db.db, uuid, 'ACCEPTED', 'WAITING', 'test')).toBe(true);
  return (await findExecution(h.db.db, uuid))!;
}

const ready = (r: ExecutionRecord, role: string, state: Record<string, unknown> = {}): ComponentChange => ({
  uuid: r.components.find((c) => c.role === role)!.uuid, from: 'WAITING', path: ['PREPARING', 'AVAILABLE'], notes: ['made', 'ready'], state,
  messages: [message('urn:test', 'INFO', 'made')],
});

const executionHistory = (r: ExecutionRecord) => r.history.filter((x) => x.component_uuid === null).map((x) => `${x.phase}:${x.note}`);
const componentHistory = (r: ExecutionRecord, uuid: string) => r.history.filter((x) => x.component_uuid === uuid).map((x) => `${x.phase}:${x.note}`);

describe('component changes carried by an execution move', () => {
  test('move the components with the execution, each phase recorded with its note, their state and messages kept', async () => {
    const r = await waitingExecution();
    const exe = ready(r, 'executable', { containerId: 'abc' });
    expect(await transitionExecutionAt(h.db.db, r.execution.uuid, 'WAITING', ['PREPARING', 'AVAILABLE'], 'available', { components: [exe] })).toBeDefined();
    const after = (await findExecution(h.db.db, r.execution.uuid))!;
    const c = after.components.find((x) => x.uuid === exe.uuid)!;
    expect(c.phase).toBe('AVAILABLE');
    expect(c.messages).toEqual([expect.objectContaining({ kind: 'urn:test' })]);
    expect(componentHistory(after, exe.uuid)).toEqual(['WAITING:test', 'PREPARING:made', 'AVAILABLE:ready']);
    expect((after.execution.platform_state as Record<string, unknown>)[exe.uuid]).toEqual({ containerId: 'abc' });
  });

  test('are not applied at all when the execution has moved on meanwhile (a cancel won)', async () => {
    const r = await waitingExecution();
    expect(await transitionExecution(h.db.db, r.execution.uuid, 'WAITING', 'CANCELLED', 'cancelled by the owner')).toBe(true);
    const exe = ready(r, 'executable', { containerId: 'late' });
    expect(await transitionExecutionAt(h.db.db, r.execution.uuid, 'WAITING', ['PREPARING', 'AVAILABLE'], 'available', { components: [exe] })).toBeUndefined();
    const after = (await findExecution(h.db.db, r.execution.uuid))!;
    expect(after.execution.phase).toBe('CANCELLED');
    expect(after.components.every((c) => c.phase === 'CANCELLED')).toBe(true);
    expect(after.components.find((c) => c.uuid === exe.uuid)!.messages).toEqual([]);
    expect(after.execution.platform_state).toEqual({});
  });

  test('a component made ready just before a failure is cancelled with the rest, after its own phases', async () => {
    const r = await waitingExecution();
    const exe = ready(r, 'executable');
    expect(await transitionExecutionAt(h.db.db, r.execution.uuid, 'WAITING', 'FAILED', 'failed', { components: [exe] })).toBeDefined();
    const after = (await findExecution(h.db.db, r.execution.uuid))!;
    expect(after.components.map((c) => c.phase)).toEqual(after.components.map(() => 'CANCELLED'));
    expect(componentHistory(after, exe.uuid)).toEqual(['WAITING:test', 'PREPARING:made', 'AVAILABLE:ready', 'CANCELLED:failed']);
  });

  test('a change from a phase the component is no longer in leaves it as it is', async () => {
    const r = await waitingExecution();
    const stale: ComponentChange = { ...ready(r, 'executable'), from: 'PREPARING', path: ['AVAILABLE'], notes: ['ready'] };
    expect(await transitionExecutionAt(h.db.db, r.execution.uuid, 'WAITING', 'PREPARING', 'preparing', { components: [stale] })).toBeDefined();
    const after = (await findExecution(h.db.db, r.execution.uuid))!;
    expect(after.components.find((c) => c.uuid === stale.uuid)!.phase).toBe('WAITING');
  });

  test('an illegal component path is refused before anything is written', async () => {
    const r = await waitingExecution();
    const illegal: ComponentChange = { ...ready(r, 'executable'), path: ['COMPLETED'], notes: ['skipped'] };
    await expect(transitionExecutionAt(h.db.db, r.execution.uuid, 'WAITING', 'PREPARING', 'preparing', { components: [illegal] })).rejects.toThrow(/illegal component transition/);
    expect((await findExecution(h.db.db, r.execution.uuid))!.execution.phase).toBe('WAITING');
  });

  test('keep the final output with the move, never replacing a final capture, and only if the move is made', async () => {
    const r = await waitingExecution();
    const uuid = r.execution.uuid;
    const out = (text: string) => [{ stream: 'stdout' as const, content: Buffer.from(text), totalBytes: text.length }];
    await saveOutputs(h.db.db, uuid, out('live'), false);
    expect(await transitionExecutionAt(h.db.db, uuid, 'WAITING', 'PREPARING', 'preparing', { outputs: out('final \u0000 bytes') })).toBeDefined();
    expect((await readOutput(h.db.db, uuid, 'stdout'))).toEqual(expect.objectContaining({ content: Buffer.from('final \u0000 bytes'), final: true }));
    // A later move keeping output again changes nothing: the final capture stays.
    expect(await transitionExecutionAt(h.db.db, uuid, 'PREPARING', 'AVAILABLE', 'available', { outputs: out('later') })).toBeDefined();
    expect((await readOutput(h.db.db, uuid, 'stdout'))!.content.toString()).toBe('final \u0000 bytes');
    // A move that is not made keeps nothing.
    expect(await transitionExecutionAt(h.db.db, uuid, 'WAITING', 'PREPARING', 'stale', { outputs: [{ stream: 'stderr', content: Buffer.from('x'), totalBytes: 1 }] })).toBeUndefined();
    expect(await readOutput(h.db.db, uuid, 'stderr')).toBeUndefined();
  });

  test('a batch run with nothing to wait for, its components carried by the execution\'s moves, records all it did', async () => {
    const uuid = await h.run({});
    const r = await h.ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    for (const c of r.components) {
      expect(componentHistory(r, c.uuid).map((x) => x.split(':')[0])).toEqual(['WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
    }
    // ACCEPTED to AVAILABLE in one change, each phase with its own note.
    expect(executionHistory(r).slice(1, 5)).toEqual([
      'ACCEPTED:accepted by the client', 'WAITING:waiting for the booked start', 'PREPARING:the executable is available', 'AVAILABLE:the executable is available',
    ]);
    const exe = r.components.find((c) => c.role === 'executable')!;
    expect((r.execution.platform_state as Record<string, Record<string, unknown>>)[exe.uuid]).toEqual(expect.objectContaining({ outputKept: true }));
    expect(exe.messages).toContainEqual(expect.objectContaining({ kind: 'urn:exit-code' }));
    expect(await readOutput(h.db.db, uuid, 'stdout')).toEqual(expect.objectContaining({ final: true, content: Buffer.from(`simulated run of ${exe.name ?? exe.uuid}\n`) }));
  });
});

describe('executions in service give way', () => {
  test('a burst of accepted executions is brought into service before any of them is looked at again', async () => {
    const one = await startHarness(new SimulatedPlatform({ prepareMs: 0, runMs: 0, releaseMs: 0 }), { concurrency: 1 });
    try {
      const uuids = [];
      for (let k = 0; k < 4; k++) uuids.push(await one.run({}, { enqueue: false }));
      // All four are queued before the worker takes any of them.
      await one.queue.pause();
      for (const uuid of uuids) await wakeExecution(one.queue, uuid);
      await one.queue.resume();
      const records = await Promise.all(uuids.map((uuid) => one.ended(uuid)));
      const at = (r: ExecutionRecord, phase: string) => Number(r.history.find((x) => x.component_uuid === null && x.phase === phase)!.id);
      const lastInService = Math.max(...records.map((r) => at(r, 'AVAILABLE')));
      const firstReleased = Math.min(...records.map((r) => at(r, 'RELEASING')));
      expect(records.map((r) => r.execution.phase)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
      expect(lastInService).toBeLessThan(firstReleased);
    } finally {
      await one.stop();
    }
  });
});
