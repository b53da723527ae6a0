import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upsertPlatform } from '@eb/db';
import { databaseUrl, freePort, redisUrl, testDatabase } from '../support/env.js';
import { startService, stopService } from '../support/processes.js';

// The Docker platform never promises more than its engine has: a 2-CPU host is not a 64-core platform.
const db = testDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'eb-engine-cap-'));
const engine = (() => {
  try {
    const [ncpu, mem] = execFileSync('docker', ['info', '--format', '{{.NCPU}} {{.MemTotal}}']).toString().trim().split(' ').map(Number);
    return { cores: ncpu!, memoryGib: Math.floor(mem! / 2 ** 30) };
  } catch {
    return undefined;
  }
})();

afterAll(async () => {
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function workerDeclares(env: Record<string, string>) {
  const name = `engine-${randomUUID().slice(0, 8)}`;
  const worker = await startService('platform-worker', await freePort(), {
    DATABASE_URL: databaseUrl(), REDIS_URL: redisUrl(), EB_QUEUE_PREFIX: `cap-${randomUUID().slice(0, 8)}`, EB_PLATFORM: 'docker', EB_PLATFORM_NAME: name,
    EB_DOCKER_DATA_DIR: dataDir, EB_MIGRATE_ON_START: 'false', ...env,
  });
  await stopService(worker);
  const row = await db.db.selectFrom('platforms').select(['cores', 'memory_gib']).where('name', '=', name).executeTakeFirstOrThrow();
  return { name, row };
}

(engine ? describe : describe.skip)('capacity from the Docker engine', () => {
  test('a declared capacity above the engine is lowered to it, and stays lowered when the API re-declares it', async () => {
    const { name, row } = await workerDeclares({ EB_CAPACITY_CORES: '64', EB_CAPACITY_MEMORY_GIB: '4096' });
    expect(row).toEqual({ cores: engine!.cores, memory_gib: engine!.memoryGib });
    // The offer-set API declares from its own configuration at start: still no more than the engine.
    await upsertPlatform(db.db, { name, cores: 64, memoryGib: 4096, storageGib: 100 });
    const again = await db.db.selectFrom('platforms').select(['cores', 'memory_gib']).where('name', '=', name).executeTakeFirstOrThrow();
    expect(again).toEqual({ cores: engine!.cores, memory_gib: engine!.memoryGib });
    // A smaller declaration is the operator's to make.
    await upsertPlatform(db.db, { name, cores: 1, memoryGib: 1, storageGib: 100 });
    expect(await db.db.selectFrom('platforms').select(['cores', 'memory_gib']).where('name', '=', name).executeTakeFirstOrThrow()).toEqual({ cores: 1, memory_gib: 1 });
  }, 120_000);

  test('without a declared capacity the engine\'s is taken; an overcommit factor scales it', async () => {
    expect((await workerDeclares({})).row).toEqual({ cores: engine!.cores, memory_gib: engine!.memoryGib });
    const doubled = await workerDeclares({ EB_DOCKER_OVERCOMMIT: '2', EB_CAPACITY_CORES: '64' });
    expect(doubled.row.cores).toBe(Math.min(64, engine!.cores * 2));
  }, 120_000);
});
