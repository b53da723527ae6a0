import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { applyClientUpdate, egressPolicy } from '@eb/core';
import { findExecution } from '@eb/db';
import { quietLogger, until } from '@eb/tests/support/env.js';
import type { OfferSpec } from '@eb/tests/support/offers.js';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { executionPhases, messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { LABEL_EXECUTION } from '../src/platforms/docker/labels.js';

// What a hostile user with a valid token tries first, against the real engine.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-docker-safety-'));
let imageId: string;
let otherImageId: string;
const OTHER_IMAGE = 'eb-test/other:1';
let server: Server;
let base = '';
const hits: string[] = [];
let trickling: IncomingMessage | undefined;
let trickleClosed = false;

function serve(req: IncomingMessage, res: ServerResponse): void {
  hits.push(req.url ?? '');
  if (req.url === '/ok' || req.url === '/') { res.end('fine\n'); return; }
  if (req.url === '/redirect-inside') { res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port + 0}/ok` }); res.end(); return; }
  if (req.url === '/redirect-loopback') { res.writeHead(302, { location: 'http://127.0.0.2:5432/secret' }); res.end(); return; }
  if (req.url === '/redirect-metadata') { res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }); res.end(); return; }
  if (req.url === '/slow') {
    // A large file that arrives a trickle at a time: a download that would run for hours.
    trickling = req;
    trickleClosed = false;
    req.socket.once('close', () => { trickleClosed = true; });
    res.writeHead(200, { 'content-length': String(100 * 2 ** 20) });
    const t = setInterval(() => res.write(Buffer.alloc(1024)), 50);
    res.once('close', () => clearInterval(t));
    return;
  }
  res.writeHead(404); res.end();
}

function platform(allow: string, extra: Partial<ReturnType<typeof dockerSettings>> = {}): DockerPlatform {
  return new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy: egressPolicy(allow), attempts: 2 }, scratchMib: 16, pidsLimit: 64, ...extra }, quietLogger);
}

let open: Harness;    // the test server allowed, as an operator would allow a data store
let closed: Harness;  // the default policy: nothing local
let hurried: Harness; // a short preparation grace
const ours: string[] = [];

beforeAll(async () => {
  imageId = ensureTestImage();
  execFileSync('bash', ['-c', `docker image inspect ${OTHER_IMAGE} >/dev/null 2>&1 || (d=$(mktemp -d); echo other > $d/other; tar -C $d -c . | docker import - ${OTHER_IMAGE} >/dev/null; rm -rf $d)`]);
  otherImageId = execFileSync('docker', ['images', '-q', '--no-trunc', OTHER_IMAGE]).toString().trim();
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const allow = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const timing = { pollMinMs: 100, pollMaxMs: 300, prepareGraceMs: 60_000 };
  open = await startHarness(platform(allow), { timing, capacity: { cores: 32, memoryGib: 64 } });
  closed = await startHarness(platform(''), { timing, capacity: { cores: 32, memoryGib: 64 } });
  hurried = await startHarness(platform(allow), { timing: { ...timing, prepareGraceMs: 1500 }, capacity: { cores: 32, memoryGib: 64 } });
}, 60_000);

afterAll(async () => {
  for (const h of [open, closed, hurried]) await h?.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const container = (command: string[], extra: Record<string, unknown> = {}) => ({ image: { locations: [TEST_IMAGE], digest: imageId }, command, ...extra });
const withData = (location: string, name = 'input'): OfferSpec['extra'] => [
  { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
  { role: 'data', name, kind: Kinds.simpleData, spec: { location, storage: 'work' } },
  { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: name } },
];

async function run(h: Harness, spec: OfferSpec): Promise<string> {
  const uuid = await h.run({ cores: 1, memoryGib: 1, ...spec });
  ours.push(uuid);
  return uuid;
}
// busybox's static wget crashes here; nc speaks enough HTTP for a probe.
const probe = (host: string, port: number | string) => `printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${host} ${port} && echo reached || echo unreachable`;
const logOf = (r: Awaited<ReturnType<Harness['ended']>>) => messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';

describe('paths from names', () => {
  test('a data name with ../ stays inside its storage: the file lands there under a safe name', async () => {
    const escape = `eb-escape-${Date.now()}`;
    // The URL's own last segment is unusable, so the stager falls back to the component's name.
    const uuid = await run(open, { executable: container(['sh', '-c', 'ls /input']), extra: withData(`${base}/ok/%2e%2e`, `../../../../../../tmp/${escape}`) });
    const r = await open.ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(existsSync(`/tmp/${escape}`)).toBe(false);
    expect(logOf(r)).toContain(`tmp_${escape}`);
  }, 60_000);
});

describe('egress from the stager', () => {
  test('loopback is refused by default: FAILED with the reason, and the server never asked', async () => {
    const before = hits.length;
    const uuid = await run(closed, { executable: container(['true']), extra: withData(`${base}/ok`) });
    const r = await closed.ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    expect(JSON.stringify(messagesOf(r, 'data'))).toContain('in a network the broker does not fetch from');
    expect(hits.length).toBe(before);
    // Refused once, not retried: no second attempt.
    expect(messagesOf(r, 'data').filter((m) => m.kind === 'urn:data-attempt')).toHaveLength(1);
  }, 60_000);

  test.each(['/redirect-loopback', '/redirect-metadata'])('a redirect from an allowed server to a refused address is refused (%s)', async (path) => {
    const uuid = await run(open, { executable: container(['true']), extra: withData(`${base}${path}`) });
    const r = await open.ended(uuid);
    expect(r.execution.phase).toBe('FAILED');
    expect(JSON.stringify(messagesOf(r, 'data'))).toContain('in a network the broker does not fetch from');
  }, 60_000);

  test('file: and data: URLs are refused', async () => {
    const uuids = await Promise.all(['file:///etc/shadow', 'data:text/plain,hello'].map((u) => run(open, { executable: container(['true']), extra: withData(u) })));
    for (const uuid of uuids) {
      const r = await open.ended(uuid);
      expect(r.execution.phase).toBe('FAILED');
      expect(JSON.stringify(messagesOf(r, 'data'))).toMatch(/scheme (file|data): is not allowed/);
    }
  }, 60_000);
});

describe('containers', () => {
  test('no new privileges, few capabilities, a process limit, a read-only image and bounded scratch space', async () => {
    const script = [
      'grep -E "^(NoNewPrivs|CapEff)" /proc/self/status',
      'touch /evil 2>/dev/null && echo root=writable || echo root=readonly',
      'dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1 | grep -o "No space left on device" | head -1',
      // Last: once the process table is full, nothing else can start.
      'n=0; for i in $(seq 1 100); do (sleep 5 &) 2>/dev/null && n=$((n+1)); done; echo started=$n',
      'exit 0',
    ].join('; ');
    const uuid = await run(open, { executable: container(['sh', '-c', script]) });
    const r = await open.ended(uuid, 60_000);
    const log = logOf(r);
    expect(log).toMatch(/NoNewPrivs:\s+1/);
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(log)![1]}`);
    expect(capEff & (1n << 21n)).toBe(0n); // CAP_SYS_ADMIN
    expect(capEff & (1n << 12n)).toBe(0n); // CAP_NET_ADMIN
    expect(capEff & (1n << 13n)).toBe(0n); // CAP_NET_RAW
    expect(Number(/started=(\d+)/.exec(log)![1])).toBeLessThan(64);
    expect(log).toContain('root=readonly');
    expect(log).toContain('No space left on device');
  }, 90_000);

  test('one network per execution: another execution\'s container cannot be reached', async () => {
    const server1 = await run(open, {
      interactive: true,
      executable: container(['sh', '-c', 'mkdir -p /tmp/w && echo secret > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'], {
        network: { ports: [{ access: true, internal: { port: 8080 }, protocol: 'HTTP' }] },
      }),
    });
    await open.inPhase(server1, 'AVAILABLE', 60_000);
    const [info] = await open_docker().listContainers({ filters: { label: [`${LABEL_EXECUTION}=${server1}`] } });
    const ip = Object.values(info!.NetworkSettings.Networks)[0]!.IPAddress;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const prober = await run(open, { executable: container(['sh', '-c', probe(ip, 8080)]) });
    const r = await open.ended(prober, 60_000);
    expect(logOf(r)).toContain('unreachable');
    expect(logOf(r)).not.toContain('secret');
    await applyClientUpdate(open.db.db, open.queues, server1, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger);
    await open.ended(server1);
  }, 120_000);

  test('the host\'s own services cannot be reached from a container, on any of its addresses', async () => {
    // A host service listening on every address (as a careless one would), for this test only.
    const host = createServer((_req, res) => res.end('host-secret'));
    await new Promise<void>((r) => host.listen(0, '0.0.0.0', r));
    const port = (host.address() as AddressInfo).port;
    try {
      const script = `gw=$(route -n | awk '$1=="0.0.0.0"{print $2}'); echo gw=$gw; ${probe('$gw', port)}`;
      const r = await open.ended(await run(open, { executable: container(['sh', '-c', script]) }), 60_000);
      expect(logOf(r)).toMatch(/gw=\d+\.\d+\.\d+\.\d+/);
      expect(logOf(r)).toContain('unreachable');
      expect(logOf(r)).not.toContain('host-secret');
    } finally {
      host.closeAllConnections();
      await new Promise((r) => host.close(r));
    }
  }, 90_000);

  test('an image id in `digest` does not select an image the locations do not name', async () => {
    const uuids = await Promise.all([
      run(open, { executable: { image: { locations: [TEST_IMAGE], digest: otherImageId }, command: ['true'] } }),
      run(open, { executable: { image: { locations: ['eb-test/not-here:1'], digest: imageId }, command: ['true'] } }),
      run(open, { executable: { image: { locations: [otherImageId], digest: otherImageId }, command: ['true'] } }),
    ]);
    for (const uuid of uuids) {
      const r = await open.ended(uuid);
      expect(r.execution.phase).toBe('FAILED');
      expect(messagesOf(r, 'executable')[0]!.message).toMatch(/no image of .* with digest/);
    }
  }, 60_000);

  test('output with NUL bytes and invalid UTF-8 is stored: exit 0 is COMPLETED', async () => {
    const uuid = await run(open, { executable: container(['sh', '-c', 'printf "a\\000b\\377\\376c\\n"; exit 0']) });
    const r = await open.ended(uuid);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(logOf(r)).toContain('a\uFFFDb');
  }, 60_000);
});

describe('staging that must stop', () => {
  test('a cancel during a download aborts it at once and releases everything within seconds', async () => {
    const uuid = await run(open, { executable: container(['true']), extra: withData(`${base}/slow`) });
    await until(async () => trickling !== undefined && !trickleClosed, 30_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    const cancelledAt = Date.now();
    expect((await applyClientUpdate(open.db.db, open.queues, uuid, { kind: 'uri:enum-value-update', path: 'phase', value: 'CANCELLED' }, quietLogger)).outcome).toBe('applied');
    await until(async () => trickleClosed, 5_000, 50);
    const r = await open.ended(uuid, 15_000);
    expect(r.execution.phase).toBe('CANCELLED');
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(existsSync(join(dataDir, uuid))).toBe(false);
  }, 60_000);

  test('a download that outlives the preparation deadline fails the execution (never COMPLETED)', async () => {
    trickling = undefined;
    const uuid = await run(hurried, { prepareMs: 500, durationMs: 2_000, executable: container(['true']), extra: withData(`${base}/slow`) });
    const r = await hurried.ended(uuid, 30_000);
    expect(r.execution.phase).toBe('FAILED');
    expect(executionPhases(r)).not.toContain('AVAILABLE');
    expect(JSON.stringify(r.execution.messages) + JSON.stringify(messagesOf(r, 'data'))).toMatch(/deadline/);
    await until(async () => trickleClosed, 5_000, 50);
  }, 60_000);
});

describe('afterwards', () => {
  test('nothing of these executions is left on the engine or the disk', async () => {
    const docker = open_docker();
    for (const uuid of ours) {
      await until(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_EXECUTION}=${uuid}`] } })).length === 0, 15_000, 200);
      await until(async () => (await docker.listNetworks({ filters: { label: [`${LABEL_EXECUTION}=${uuid}`] } })).length === 0, 15_000, 200);
    }
    // Networks made ahead carry no execution's label: each execution's is in its executable's state.
    const records = await Promise.all(ours.map((uuid) => findExecution(open.db.db, uuid)));
    const networks = records.flatMap((r) => Object.values(r?.execution.platform_state ?? {}))
      .map((state) => (state as { network?: unknown }).network).filter((n): n is string => typeof n === 'string');
    expect(networks.length).toBeGreaterThan(1);
    expect(networks.some((n) => n.startsWith('eb-net-'))).toBe(true);
    expect(new Set(networks).size).toBe(networks.length); // never one network for two executions
    for (const name of networks) {
      await until(async () => docker.getNetwork(name).inspect().then(() => false, () => true), 15_000, 200);
    }
    await until(async () => readdirSync(dataDir).length === 0, 15_000, 200);
  }, 60_000);
});

function open_docker() {
  return platform('').docker;
}
