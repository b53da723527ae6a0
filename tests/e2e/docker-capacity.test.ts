import { afterAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPlatform } from '@eb/db';
import { databaseUrl, freePort, readRequest, redisUrl, testDatabase } from '../support/env.js';
import { startService, stopService } from '../support/processes.js';

// The Docker platform promises no more than the real engine on this machine has (`docker info`),
// unless an overcommit factor says otherwise; with nothing configured it takes the engine's figures.
const db = testDatabase(2);
const dataDir = mkdtempSync(join(tmpdir(), 'eb-capacity-'));
const info = JSON.parse(execFileSync('docker', ['info', '--format', '{{json .}}']).toString()) as { NCPU: number; MemTotal: number };
const engine = { cores: info.NCPU, memoryGib: Math.floor(info.MemTotal / 1024 ** 3) };
afterAll(async () => {
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const baseEnv = (platform: string) => ({
  DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_AUTH: 'none', EB_QUEUE_PREFIX: `cap-${randomUUID().slice(0, 8)}`,
  EB_PLATFORM: 'docker', EB_PLATFORM_NAME: platform, EB_DOCKER_DATA_DIR: dataDir, EB_DOCKER_PULL: 'false',
});

/** Starts a worker with this environment and answers the capacity its platform was declared with. */
async function declaredBy(env: Record<string, string>) {
  const platform = `cap-${randomUUID().slice(0, 8)}`;
  const worker = await startService('platform-worker', await freePort(), { ...baseEnv(platform), ...env });
  try {
    return { platform, capacity: await findPlatform(db.db, platform) };
  } finally {
    await stopService(worker);
  }
}

test('configured beyond the engine, the Docker platform declares only what the engine has', async () => {
  const { capacity } = await declaredBy({ EB_CAPACITY_CORES: '16', EB_CAPACITY_MEMORY_GIB: '64' });
  expect(capacity).toMatchObject({ cores: Math.min(16, engine.cores), memoryGib: Math.min(64, engine.memoryGib) });
}, 60_000);

test('with nothing configured it takes the engine\'s figures; an overcommit factor allows that much more', async () => {
  expect((await declaredBy({})).capacity).toMatchObject(engine);
  const over = await declaredBy({ EB_CAPACITY_CORES: '16', EB_CAPACITY_MEMORY_GIB: '64', EB_CAPACITY_OVERCOMMIT: '8' });
  expect(over.capacity).toMatchObject({ cores: Math.min(16, engine.cores * 8), memoryGib: Math.min(64, Math.floor((info.MemTotal / 1024 ** 3) * 8)) });
}, 60_000);

test('an offer-set API configured beyond the engine neither raises the capacity nor offers more than the engine has', async () => {
  const { platform } = await declaredBy({});
  const api = await startService('offerset-api', await freePort(), { ...baseEnv(platform), EB_CAPACITY_CORES: String(engine.cores + 14), EB_CAPACITY_MEMORY_GIB: '64' });
  try {
    expect(await findPlatform(db.db, platform)).toMatchObject(engine);
    const ask = async (cores: number) => {
      const req = await readRequest('execution-request-docker-minimal.json');
      req.compute = { kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/compute/simple-compute-resource.yaml', cores: { min: cores, max: cores }, memory: { min: 1, max: 1 } };
      const res = await fetch(`${api.url}/offersets`, { method: 'POST', headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' }, body: JSON.stringify(req) });
      return await res.json() as { result: string; meta: { messages?: { kind: string; values: Record<string, string> }[] } };
    };
    const tooMany = await ask(engine.cores + 1);
    expect(tooMany.result).toBe('NO');
    expect(tooMany.meta.messages![0]).toMatchObject({ kind: 'urn:insufficient-resources', values: { resources: 'cores' } });
    expect((await ask(engine.cores)).result).toBe('YES');
  } finally {
    await stopService(api);
  }
}, 60_000);
