import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import type { ExecutionRecord } from '@eb/db';
import { egressPolicy } from '@eb/core';
import { freePort } from '@eb/tests/support/env.js';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { describeFile, startFakeRucio, type FakeRucio } from '@eb/tests/support/fake-rucio.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { NO_SOURCES } from '../src/staging/sources.js';

// Rucio data staged by the Docker platform: a stand-in Rucio server (auth, replicas, rules) and
// storage elements serving the replicas, all on loopback; a real container reads what was staged.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-rucio-test-'));
const contents = new Map<string, Buffer>();
const rseHits: string[] = [];
let rse: Server;
let rseUrl = '';
let rucio: FakeRucio;
let h: Harness;
let imageId = '';
let forbiddenPort = 0;

const content = (name: string, size: number) => { const b = randomBytes(size); contents.set(name, b); return b; };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Storage elements: /<rse>/<path> serves the replicas; /liar declares far more than it sends; /busy answers 503. */
function startRse(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    rseHits.push(path);
    const [, site, ...rest] = path.split('/');
    const body = contents.get(rest.join('/'));
    if (site === 'busy') { res.writeHead(503); res.end(); return; }
    if (!body) { res.writeHead(404); res.end(); return; }
    if (site === 'liar') { res.writeHead(200, { 'content-length': String(5 * 2 ** 30) }); res.write(body); setTimeout(() => res.destroy(), 2000); return; }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  imageId = ensureTestImage();
  rse = await startRse();
  rseUrl = `http://127.0.0.1:${(rse.address() as AddressInfo).port}`;
  rucio = await startFakeRucio({ account: 'eb', username: 'broker', password: 'secret' });
  forbiddenPort = await freePort();
  const add = (name: string, size: number, replicas: { rse: string; url?: string; priority: number }[], change: Partial<ReturnType<typeof describeFile>> = {}) => {
    const body = content(name, size);
    const f = { ...describeFile('user.eb', name, body, replicas.map((r) => ({ rse: r.rse, url: r.url ?? `${rseUrl}/${r.rse.toLowerCase()}/${name}`, priority: r.priority }))), ...change };
    rucio.files.set(`user.eb:${name}`, f);
  };
  // Closest first: the metadata service is "closest", the stager must skip it.
  add('cube.fits', 1_500_000, [{ rse: 'EVIL', url: 'http://169.254.169.254/latest/meta-data/cube.fits', priority: 1 }, { rse: 'NEAR', priority: 2 }, { rse: 'FAR', priority: 3 }]);
  add('part-1.fits', 300_000, [{ rse: 'FAR', priority: 2 }, { rse: 'NEAR', priority: 1 }]);
  add('part-2.fits', 200_000, [{ rse: 'NEAR', priority: 1 }]);
  rucio.datasets.set('user.eb:survey.dataset', ['user.eb:part-1.fits', 'user.eb:part-2.fits']);
  add('only-local.fits', 1000, [{ rse: 'LOOPBACK', url: `http://127.0.0.1:${forbiddenPort}/secret`, priority: 1 }]);
  add('lying.fits', 5000, [{ rse: 'LIAR', priority: 1 }]);
  add('corrupt.fits', 5000, [{ rse: 'NEAR', priority: 1 }], { adler32: '00000001' });
  add('huge.fits', 1000, [{ rse: 'NEAR', priority: 1 }], { bytes: 3 * 2 ** 30 });
  add('busy-first.fits', 4000, [{ rse: 'BUSY', priority: 1 }, { rse: 'FAR', priority: 2 }]);
  add('remote.fits', 70_000, [{ rse: 'FAR', priority: 1 }]);
  rucio.ruleReplica = (f, site) => ({ rse: site, url: `${rseUrl}/${site.toLowerCase()}/${f.name}`, priority: 0 });
  const account = { account: 'eb', auth: { userpass: { username: 'broker', password: 'secret' } }, schemes: ['https', 'davs', 'http'] };
  const sources = {
    ...NO_SOURCES,
    rucio: [
      { name: 'test-rucio', endpoint: rucio.url, ...account },
      { name: 'with-rule', endpoint: `${rucio.url}/`, ...account, localRse: 'LOCAL_RSE' },
      { name: 'wrong-password', endpoint: rucio.url, account: 'eb', auth: { userpass: { username: 'broker', password: 'guess' } }, schemes: ['http'] },
    ],
  };
  const policy = egressPolicy(`${new URL(rucio.url).host},${new URL(rseUrl).host}`);
  const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy, sources, attempts: 2 } });
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 400 } });
}, 60_000);

afterAll(async () => {
  await h.stop();
  await rucio.close();
  await new Promise((r) => rse.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const job = (script: string) => ({ image: { locations: [TEST_IMAGE], digest: imageId }, command: ['sh', '-c', script] });
const run = (source: string, object: string, script = 'md5sum /input/*.fits', scope = 'user.eb') => h.run({
  executable: job(script),
  extra: [
    { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
    { role: 'data', name: 'in', kind: Kinds.rucioData, spec: { storage: 'work', rucio: { endpoint: source, scope, object, type: 'FILE' } } },
    { role: 'volume', name: 'v', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
  ],
});
const ended = async (p: Promise<string>) => h.ended(await p, 60_000);
const dataText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'data'));
const log = (r: ExecutionRecord) => messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';

describe('Rucio data', () => {
  test('hostile: replicas at the metadata service or loopback, a lying length, a wrong checksum, a huge file, a climbing DID, bad credentials', async () => {
    const [loopback, lying, corrupt, huge, climbing, refused, unknown] = await Promise.all([
      ended(run('test-rucio', 'only-local.fits')),
      ended(run('test-rucio', 'lying.fits')),
      ended(run('test-rucio', 'corrupt.fits')),
      ended(run('test-rucio', 'huge.fits')),
      ended(run('test-rucio', '../../../etc/passwd')),
      ended(run('wrong-password', 'cube.fits')),
      ended(run('test-rucio', 'missing.fits')),
    ]);
    for (const r of [loopback, lying, corrupt, huge, climbing, refused, unknown]) expect(r.execution.phase).toBe('FAILED');
    expect(dataText(loopback)).toContain('no replica of user.eb:only-local.fits can be fetched under the broker');
    expect(dataText(loopback)).toContain('urn:data-replica-refused');
    expect(dataText(lying)).toContain(`${5 * 2 ** 30} bytes, larger than the ${2 ** 30} bytes of storage booked`);
    expect(dataText(corrupt)).toMatch(/adler32 checksum [0-9a-f]{8} does not match the expected 00000001/);
    expect(dataText(huge)).toContain('larger than the storage booked');
    expect(dataText(climbing)).toContain('nor have');
    expect(dataText(refused)).toContain('HTTP 401');
    expect(dataText(unknown)).toContain('HTTP 404');
    // The loopback and metadata addresses were never contacted, nor any file written for the refused ones.
    expect(rseHits.some((p) => p.includes('only-local') || p.includes('huge'))).toBe(false);
  }, 120_000);

  test('a file: token from /auth/userpass, replicas closest first, the metadata-service replica skipped, size and checksums checked', async () => {
    const r = await ended(run('test-rucio', 'cube.fits'));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(`${md5(contents.get('cube.fits')!)}  /input/cube.fits`);
    const data = messagesOf(r, 'data');
    expect(data).toContainEqual(expect.objectContaining({ kind: 'urn:data-replica-refused', values: expect.objectContaining({ site: 'EVIL' }) }));
    expect(data).toContainEqual(expect.objectContaining({ kind: 'urn:data-located', values: expect.objectContaining({ site: 'NEAR', bytes: '1500000' }) }));
    expect(rseHits).toContain('/near/cube.fits');
    expect(rseHits).not.toContain('/far/cube.fits');
    const asked = rucio.requests.find((q) => q.path.startsWith('/replicas/user.eb/cube.fits'))!;
    expect(asked.headers['x-rucio-auth-token']).toMatch(/^eb-[0-9a-f]{16}$/);
    expect(asked.headers.accept).toBe('application/x-json-stream');
    expect(new URL(asked.path, 'http://x').searchParams.get('select')).toBe('geoip');
  }, 60_000);

  test('a dataset: each of its files staged from its closest replica', async () => {
    const r = await ended(run('test-rucio', 'survey.dataset'));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(`${md5(contents.get('part-1.fits')!)}  /input/part-1.fits`);
    expect(log(r)).toContain(`${md5(contents.get('part-2.fits')!)}  /input/part-2.fits`);
    expect(rseHits).toContain('/near/part-1.fits');
  }, 60_000);

  test('a replica that answers 503 gives way to the next', async () => {
    const r = await ended(run('test-rucio', 'busy-first.fits'));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(rseHits).toContain('/busy/busy-first.fits');
    expect(rseHits).toContain('/far/busy-first.fits');
  }, 60_000);

  test('with a local RSE configured: a rule is made, followed until OK, and the local replica staged', async () => {
    const r = await ended(run('with-rule', 'remote.fits'));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(md5(contents.get('remote.fits')!));
    const post = rucio.requests.find((q) => q.method === 'POST' && q.path === '/rules/')!;
    expect(post.body).toEqual({ dids: [{ scope: 'user.eb', name: 'remote.fits' }], account: 'eb', copies: 1, rse_expression: 'LOCAL_RSE', lifetime: 86_400 });
    expect(rucio.requests.filter((q) => /^\/rules\/[0-9a-f]{32}$/.test(q.path)).length).toBeGreaterThanOrEqual(3);
    expect(rseHits).toContain('/local_rse/remote.fits');
    expect(rseHits).not.toContain('/far/remote.fits');
    expect(messagesOf(r, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-rule', values: expect.objectContaining({ rse: 'LOCAL_RSE' }) }));
  }, 60_000);
});
