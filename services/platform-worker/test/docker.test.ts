import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { findExecution, readOutput } from '@eb/db';
import { applyClientUpdate, egressPolicy, renderExecution } from '@eb/core';
import { quietLogger, until } from '@eb/tests/support/env.js';
import type { OfferSpec } from '@eb/tests/support/offers.js';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { untilNothingLeft } from './nothing-left.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { LABEL_EXECUTION } from '../src/platforms/docker/labels.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';

// Against the real Docker engine that scripts/ensure-services.sh starts.
let h: Harness;
const dataDir = mkdtempSync(join(tmpdir(), 'eb-docker-test-'));
// The test file server is on loopback, which the stager refuses unless allowed: allowed here as an operator would.
const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy: egressPolicy('127.0.0.1'), attempts: 3 } });
let imageId: string;
let files: Server;
let filesUrl = '';
const payload = randomBytes(3 * 1024 * 1024 + 17);
const payloadMd5 = createHash('md5').update(payload).digest('hex');
let flaky = 0;
const ours: string[] = [];

beforeAll(async () => {
  imageId = ensureTestImage();
  files = createServer((req, res) => {
    if (req.url === '/data.bin') { res.writeHead(200, { 'content-length': payload.length }); res.end(payload); return; }
    // Fails twice, then serves: the download retries with backoff.
    if (req.url === '/flaky.bin') { if (flaky++ < 2) { res.writeHead(503); res.end(); return; } res.end(payload); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 500, prepareGraceMs: 60_000 }, capacity: { cores: 64, memoryGib: 128 }, concurrency: 25 });
}, 60_000);

afterEach(async () => {
  // Nothing of the broker's is left behind: no container, no directory.
  await untilNothingLeft(docker.docker, dataDir, ours.splice(0));
}, 60_000);

afterAll(async () => {
  await h.stop();
  await new Promise((r) => files.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const container = (command: string[], extra: Record<string, unknown> = {}) => ({
  image: { locations: [TEST_IMAGE], digest: imageId }, command, environment: { GREETING: 'hello' }, ...extra,
});

async function run(spec: OfferSpec): Promise<string> {
  const uuid = await h.run({ cores: 1, memoryGib: 1, ...spec });
  ours.push(uuid);
  return uuid;
}

// Generous: a loaded 2-core machine can be slow to write a GiB or to start twenty containers.
const ended = (uuid: string, timeoutMs = 90_000) => h.ended(uuid, timeoutMs);

const staged = (location: string, checksum?: { type: string; value: string }): OfferSpec['extra'] => [
  { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
  { role: 'data', name: 'input', kind: Kinds.simpleData, spec: { location, storage: 'work', ...(checksum ? { checksum } : {}) } },
  { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'input' } },
];

describe('Docker platform', () => {
  test('batch: stages a file over HTTP into storage, mounts it read-only, computes its MD5 within the booked limits', async () => {
    const script = [
      'md5sum /input/data.bin',
      'touch /input/x 2>/dev/null && echo mount=writable || echo mount=readonly',
      'echo greeting=$GREETING',
      'echo cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)',
      'echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)',
    ].join('; ');
    const uuid = await run({ executable: container(['sh', '-c', script]), extra: staged(`${filesUrl}/data.bin`, { type: 'md5', value: payloadMd5 }) });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    const log = messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')!.values!.log!;
    expect(log).toContain(`${payloadMd5}  /input/data.bin`);
    expect(log).toContain('mount=readonly');
    expect(log).toContain('greeting=hello');
    expect(log).toMatch(/cpu=(100000|100000 100000)/);
    expect(log).toContain(`mem=${2 ** 30}`);
    expect(messagesOf(r, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-staged', values: expect.objectContaining({ bytes: String(payload.length) }) }));
    // Progress was recorded while it downloaded (a quarter at a time, the length being known).
    const progress = messagesOf(r, 'data').filter((m) => m.kind === 'urn:data-progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]!.values).toMatchObject({ total: String(payload.length) });
  }, 60_000);

  test('interactive: AVAILABLE only once the port answers, reached through its access URL, then cancelled', async () => {
    const uuid = await run({
      interactive: true,
      executable: container(['sh', '-c', 'sleep 1; mkdir -p /tmp/www && echo hello-from-eb > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'], {
        network: { ports: [{ access: true, internal: { port: 8080 }, protocol: 'HTTP' }] },
      }),
    });
    const available = await until(async () => {
      const r = await findExecution(h.db.db, uuid);
      return r?.execution.phase === 'AVAILABLE' ? r : undefined;
    }, 30_000, 100);
    const session = renderExecution(available, 'http://broker.test');
    const url = session.connectors?.[0]?.location;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(url!)).text()).toBe('hello-from-eb\n');
    expect((await applyClientUpdate(h.db.db, h.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger)).outcome).toBe('applied');
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('CANCELLED');
    await expect(fetch(url!)).rejects.toThrow();
  }, 60_000);

  test('storage has the booked size: the container sees it and cannot write past it', async () => {
    const uuid = await run({
      executable: container(['sh', '-c', 'df -k /output | tail -1; dd if=/dev/zero of=/output/big bs=1M count=1100 2>&1 | grep -E "No space|records out"; exit 7']),
      extra: [
        { role: 'storage', name: 'out', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
        { role: 'volume', name: 'o', kind: Kinds.simpleVolumeMount, spec: { path: '/output', mode: 'READWRITE', resource: 'out' } },
      ],
    });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    const log = messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')!.values!.log!;
    const sizeKb = Number(/^\S+\s+(\d+)/m.exec(log)![1]);
    expect(sizeKb).toBeGreaterThan(0.9 * 2 ** 20);
    expect(sizeKb).toBeLessThanOrEqual(2 ** 20);
    expect(log).toMatch(/No space left on device/);
  }, 60_000);

  test('a failing job: FAILED with the exit code and the last lines of its log', async () => {
    const uuid = await run({ executable: container(['sh', '-c', 'echo working; echo boom >&2; exit 3']) });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    const m = messagesOf(r, 'executable').find((x) => x.kind === 'urn:exit-code')!;
    expect(m.level).toBe('ERROR');
    expect(m.values).toMatchObject({ code: '3' });
    expect(m.values!.log).toContain('boom');
  }, 60_000);

  test('output: stdout and stderr apart and byte for byte, read while it runs, the last MiB kept after the container is gone', async () => {
    const script = [
      'printf "out-1\\n"', 'printf "err-1\\n" >&2', 'printf "e\\000\\377\\n" >&2', 'sleep 2',
      'yes xxxxxxxxx | head -c 1500000', 'printf "end-of-stdout\\n"', 'printf "err-2\\n" >&2',
    ].join('; ');
    const uuid = await run({ executable: container(['sh', '-c', script]) });
    const live = await until(async () => {
      const o = await readOutput(h.db.db, uuid, 'stdout');
      return o && !o.final && o.content.toString().startsWith('out-1\n') ? o : undefined;
    }, 20_000, 50);
    expect(live.totalBytes).toBe(6);
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
    expect(await docker.docker.listContainers({ all: true, filters: { label: [`${LABEL_EXECUTION}=${uuid}`] } })).toEqual([]);
    const out = (await readOutput(h.db.db, uuid, 'stdout'))!;
    expect(out.final).toBe(true);
    expect(out.totalBytes).toBe(6 + 1_500_000 + 14);
    expect(out.content.length).toBe(2 ** 20);
    expect(out.content.subarray(-24).toString()).toBe('xxxxxxxxx\nend-of-stdout\n');
    const err = (await readOutput(h.db.db, uuid, 'stderr'))!;
    expect(err.content).toEqual(Buffer.concat([Buffer.from('err-1\ne'), Buffer.from([0, 0xff]), Buffer.from('\nerr-2\n')]));
    expect(err.totalBytes).toBe(err.content.length);
  }, 60_000);

  test('labels: the client\'s and the service\'s on the container (schema 1.0.8)', async () => {
    const uuid = await run({ executable: container(['sleep', '3'], { labels: { team: 'radio astronomy', 'calycopis-broker-session-uid': 'forged' } }) });
    const [c] = await until(async () => {
      const list = await docker.docker.listContainers({ all: true, filters: { label: [`calycopis-broker-session-uid=${uuid}`] } });
      return list.length ? list : undefined;
    }, 20_000, 100);
    const record = (await findExecution(h.db.db, uuid))!;
    const exe = record.components.find((x) => x.role === 'executable')!;
    expect(c!.Labels).toMatchObject({
      team: 'radio astronomy',
      'calycopis-broker-session-uid': uuid,
      'calycopis-broker-resource-uid': exe.uuid,
      'calycopis-broker-resource-kind': 'docker-container',
      'calycopis-broker-container-role': 'execution',
    });
    expect((await ended(uuid)).execution.phase).toBe('COMPLETED');
  }, 60_000);

  test('a missing image fails the execution with a clear message', async () => {
    const uuid = await run({ executable: { image: { locations: ['eb-test/missing:1'], digest: `sha256:${'0'.repeat(64)}` }, command: ['true'] } });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    expect(messagesOf(r, 'executable')[0]!.message).toMatch(/is on this engine, and pulling is off/);
  }, 60_000);

  test('downloads retry with backoff; a download that fails fails early and nothing is left', async () => {
    const ok = await run({ executable: container(['md5sum', '/input/flaky.bin']), extra: staged(`${filesUrl}/flaky.bin`) });
    const bad = await run({ executable: container(['true']), extra: staged(`${filesUrl}/missing.bin`) });
    const [a, b] = await Promise.all([ended(ok), ended(bad)]);
    expect(a.execution.phase).toBe('COMPLETED');
    expect(messagesOf(a, 'data').filter((m) => m.kind === 'urn:data-attempt')).toHaveLength(2);
    expect(b.execution.phase).toBe('FAILED');
    expect(messagesOf(b, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-attempt', values: expect.objectContaining({ reason: expect.stringContaining('HTTP 404') }) }));
    const exe = b.components.find((c) => c.role === 'executable')!;
    expect(b.history.some((h) => h.component_uuid === exe.uuid && h.phase === 'PREPARING')).toBe(false);
  }, 60_000);

  test('a wrong checksum fails the execution', async () => {
    const uuid = await run({ executable: container(['true']), extra: staged(`${filesUrl}/data.bin`, { type: 'md5', value: '0'.repeat(32) }) });
    const r = await ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    expect(JSON.stringify(messagesOf(r, 'data'))).toContain('does not match');
  }, 60_000);

  test('20 concurrent executions all complete', async () => {
    const uuids = await Promise.all(Array.from({ length: 20 }, (_, i) => run({ executable: container(['sh', '-c', `echo run-${i}`]) })));
    const results = await Promise.all(uuids.map((u) => ended(u, 90_000)));
    expect(results.map((r) => r.execution.phase)).toEqual(Array(20).fill('COMPLETED'));
    results.forEach((r, i) => expect(messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')!.values!.log).toContain(`run-${i}`));
  }, 120_000);
});
