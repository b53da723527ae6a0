import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { executionPhases, messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';

// Against the real Docker engine: the end of a running container is seen when it happens, not at a poll.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-end-watch-'));
const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: NO_STAGING });
let h: Harness;
let imageId: string;

beforeAll(async () => {
  imageId = ensureTestImage();
  // Polls so slow that only the engine's answer can end these executions within the tests' bounds.
  h = await startHarness(docker, { timing: { pollMinMs: 20_000, pollMaxMs: 20_000, prepareGraceMs: 60_000 } });
}, 60_000);

afterAll(async () => {
  await h.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const container = (command: string[]) => ({ image: { locations: [TEST_IMAGE], digest: imageId }, command });

describe('the end of a running executable', () => {
  test('a container that runs a while is COMPLETED as soon as it exits, its output kept', async () => {
    const started = Date.now();
    const uuid = await h.run({ prepareMs: 5000, executable: container(['sh', '-c', 'sleep 1.5; echo done']) });
    const r = await h.ended(uuid, 15_000);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(executionPhases(r)).toEqual(['OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED']);
    // It ran 1.5 s; a poll would have come 20 s after it started.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values).toMatchObject({ code: '0' });
  }, 30_000);

  test('a container that fails after a while is FAILED as soon as it exits', async () => {
    const started = Date.now();
    const uuid = await h.run({ prepareMs: 5000, executable: container(['sh', '-c', 'sleep 1; exit 4']) });
    const r = await h.ended(uuid, 15_000);
    expect(r.execution.phase).toBe('FAILED');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values).toMatchObject({ code: '4' });
  }, 30_000);
});
