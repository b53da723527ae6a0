import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { Kinds } from '@eb/schema';
import { connectDatabase, declarePlatformAbilities, upsertPlatform, type DatabaseHandle, type PlatformAbilities, type PlatformCapacity } from '@eb/db';
import type { AuthSettings } from '@eb/http-kit';

export const databaseUrl = (): string => {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through scripts/test.sh');
  return url;
};
export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Authentication off: for tests of other things, where every caller is the anonymous owner. */
export const noAuth: AuthSettings = { staticTokens: new Map(), adminRole: 'eb-admin', disabled: true };

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function testDatabase(max = 10): DatabaseHandle {
  return connectDatabase(databaseUrl(), { max, applicationName: 'eb-test' });
}

/** What the simulated platform's worker declares: every kind (it runs nothing for real). */
export const SIMULATED_ABILITIES: PlatformAbilities = {
  executableKinds: [Kinds.dockerContainer, Kinds.singularityContainer, Kinds.jupyterNotebook],
  dataKinds: [Kinds.simpleData, Kinds.s3Data, Kinds.rucioData, Kinds.ivoaData, Kinds.skaoData],
  outputs: ['stdout', 'stderr'],
  labels: 'docker',
  sources: [],
  mounts: true,
  headlessNotebooks: true,
};

/**
 * Each test gets a platform of its own, so tests running in parallel on one database never share
 * capacity, and a queue prefix of its own in Redis. Its abilities are declared as a worker would
 * (the simulated platform's unless given; null leaves them undeclared).
 */
export async function testPlatform(
  db: DatabaseHandle['db'], capacity: Partial<Omit<PlatformCapacity, 'name'>> = {}, abilities: PlatformAbilities | null = SIMULATED_ABILITIES,
): Promise<PlatformCapacity> {
  const p: PlatformCapacity = { name: `test-${randomUUID().slice(0, 8)}`, cores: 16, memoryGib: 64, storageGib: 1000, ...capacity };
  await upsertPlatform(db, p);
  if (abilities) await declarePlatformAbilities(db, p, abilities);
  return p;
}

export const uniquePrefix = (): string => `ebtest-${randomUUID().slice(0, 8)}`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const readRequest = (name: string) => import(`../fixtures/${name}`, { with: { type: 'json' } }).then((m) => structuredClone(m.default));

/** Declares a platform's abilities as its worker would, for tests that run the APIs without a worker. */
export async function declareAbilities(db: DatabaseHandle['db'], name: string, abilities: PlatformAbilities = SIMULATED_ABILITIES): Promise<void> {
  await declarePlatformAbilities(db, { name, cores: 16, memoryGib: 64, storageGib: 1000 }, abilities);
}
