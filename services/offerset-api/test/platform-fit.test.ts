import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import { StepQueues, redisConnection, type PlatformType } from '@eb/core';
import { noAuth, quietLogger, readRequest, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { createApp } from '../src/app.js';
import type { PlatformAbilities } from '@eb/db';

// The offer-set API as configured for each real platform: what that platform cannot honour is refused up front.
const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
const apps = new Map<PlatformType, Express>();

// What each real platform's worker declares with no data sources or notebook image configured
// (services/platform-worker/src/platforms/*/abilities.ts).
const DECLARED: Record<'docker' | 'kubernetes' | 'skaha', PlatformAbilities> = {
  docker: { executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout', 'stderr'], labels: 'docker', sources: [], mounts: true, architectures: ['amd64'] },
  kubernetes: { executableKinds: [Kinds.dockerContainer], dataKinds: [Kinds.simpleData], outputs: ['stdout'], labels: 'kubernetes', sources: [], mounts: true, architectures: ['amd64'] },
  skaha: { executableKinds: [Kinds.dockerContainer, Kinds.jupyterNotebook], dataKinds: [], outputs: ['stdout'], labels: 'none', sources: [], mounts: false, architectures: ['amd64'] },
};

beforeAll(async () => {
  for (const type of ['docker', 'kubernetes', 'skaha'] as const) {
    const p = await testPlatform(db.db, { cores: 8, memoryGib: 16 }, DECLARED[type]);
    const platform = { ...p, type, prepareMs: 30_000, releaseMs: 10_000 };
    apps.set(type, createApp({
      db: db.db, queues, logger: quietLogger, auth: noAuth,
      config: {
        port: 0, host: '127.0.0.1', databaseUrl: '', redisUrl: '', platform,
        offers: { platform: p.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers: 2, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 200, outputs: DECLARED[type].outputs },
        defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 },
      },
    }));
  }
});

afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await db.close();
});

async function ask(type: PlatformType, change: (req: Record<string, any>) => void) {
  const req = await readRequest('execution-request-docker-minimal.json');
  req.executable.image.digest = 'sha256:0123012301230123012301230123012301230123012301230123012301230123';
  change(req);
  const res = await request(apps.get(type)!).post('/offersets').set('Prefer', 'return=representation').send(req);
  expect(res.status).toBe(200);
  return res.body as { result: string; meta: { messages?: { kind: string; message: string }[] } };
}
const kinds = (set: { meta: { messages?: { kind: string }[] } }) => (set.meta.messages ?? []).map((m) => m.kind);

describe('what a platform cannot honour is refused before any offer', () => {
  test('Skaha: no storage, no volume mounts, no labels; each named', async () => {
    const set = await ask('skaha', (r) => {
      r.storage = [{ kind: Kinds.simpleStorage, meta: { name: 'work' } }];
      r.compute = { kind: Kinds.simpleCompute, volumes: [{ kind: Kinds.simpleVolumeMount, path: '/work', resource: 'work' }] };
      r.executable.labels = { team: 'x' };
    });
    expect(set.result).toBe('NO');
    expect(kinds(set)).toEqual(['urn:not-supported', 'urn:not-supported', 'urn:not-supported']);
    expect(set.meta.messages!.map((m) => m.message).join(' | ')).toMatch(/labels.*Storage resources.*Volume mounts/);
    expect((await ask('skaha', () => undefined)).result).toBe('YES');
  });

  test('images for another OS or CPU architecture', async () => {
    for (const type of ['docker', 'kubernetes'] as const) {
      const set = await ask(type, (r) => { r.executable.image.platform = { architecture: 'arm64', os: 'windows' }; });
      expect(kinds(set)).toEqual(['urn:not-supported', 'urn:not-supported']);
      expect((await ask(type, (r) => { r.executable.image.platform = { architecture: 'AMD64', os: 'linux' }; })).result).toBe('YES');
    }
  });

  test('kinds the platform cannot run are urn:not-supported', async () => {
    const set = await ask('docker', (r) => { r.data = [{ kind: Kinds.s3Data, meta: { name: 'bucket' }, bucket: 'b' }]; });
    expect(set.result).toBe('NO');
    // The kind first; the S3 fields, checked as data whatever the platform, may add their own messages.
    expect(kinds(set)[0]).toBe('urn:not-supported');
  });

  test('a headless notebook (interactive: false, a broker extension) where notebooks are sessions only; a bad flag is invalid', async () => {
    const notebook = (interactive: unknown) => (r: Record<string, any>) => {
      r.executable = { kind: Kinds.jupyterNotebook, meta: { name: 'nb' }, location: 'https://example.org/a.ipynb', interactive };
    };
    const skaha = await ask('skaha', notebook(false));
    expect(skaha.result).toBe('NO');
    expect(skaha.meta.messages!.map((m) => m.message).join()).toMatch(/JupyterNotebook - headless runs \(interactive: false\) are not supported on the \S+ platform/);
    expect((await ask('skaha', notebook(true))).result).toBe('YES');
    const odd = await ask('skaha', notebook('no'));
    expect(odd.meta.messages!.find((m) => m.kind === 'urn:invalid-value')!.message).toContain('executable.interactive');
    const onDocker = await ask('docker', (r) => { r.executable.interactive = false; });
    expect(onDocker.meta.messages!.find((m) => m.kind === 'urn:invalid-value')!.message).toContain('only a JupyterNotebook may say');
  });
});
