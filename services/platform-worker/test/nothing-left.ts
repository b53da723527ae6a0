import { readdirSync } from 'node:fs';
import type Docker from 'dockerode';
import { until } from '@eb/tests/support/env.js';
import { LABEL_EXECUTION } from '../src/platforms/docker/labels.js';

/** Waits until nothing of these executions is left on the engine (no container) nor in the data directory. */
export async function untilNothingLeft(docker: Docker, dataDir: string, uuids: readonly string[]): Promise<void> {
  for (const uuid of uuids) {
    await until(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_EXECUTION}=${uuid}`] } })).length === 0, 15_000, 200);
  }
  await until(async () => readdirSync(dataDir).length === 0, 15_000, 200);
}
