import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarness, type Harness } from './harness.js';
import { SIMULATED_NOTICE, SimulatedPlatform } from '../src/platforms/simulated/index.js';

// The simulated platform runs nothing; a COMPLETED from it must not pass for a real run.
let h: Harness;

beforeAll(async () => {
  h = await startHarness(new SimulatedPlatform({ prepareMs: 100, runMs: 100, releaseMs: 50 }));
});
afterAll(() => h.stop());

test('every simulated execution says, on its executable, that nothing really runs', async () => {
  const uuids = await Promise.all([h.run({}), h.run({ environment: { SIMULATED_EXIT_CODE: '2' } })]);
  for (const uuid of uuids) {
    const r = await h.ended(uuid);
    const executable = r.components.find((c) => c.role === 'executable')!;
    const notices = executable.messages.filter((m) => m.kind === SIMULATED_NOTICE);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toEqual(expect.objectContaining({ level: 'WARN', message: expect.stringMatching(/nothing really runs/) }));
    // Only the executable carries it: the other components are not cluttered with copies.
    expect(r.components.filter((c) => c.role !== 'executable').flatMap((c) => c.messages).some((m) => m.kind === SIMULATED_NOTICE)).toBe(false);
  }
});
