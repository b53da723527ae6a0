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
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { adler32Of } from '@eb/tests/support/fake-rucio.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { NO_SOURCES } from '../src/staging/sources.js';

// SKAO data from the SRCNet data lake: a stand-in for the data-management API (data/locate,
// data/download) and for the storage elements, which want the storage token it hands out.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-skao-test-'));
const product = randomBytes(900_000);
const productMd5 = createHash('md5').update(product).digest('hex');
const DM_TOKEN = 'dm-api-token';
let api: Server;
let base = '';
const calls: { path: string; auth?: string }[] = [];
let h: Harness;
let imageId = '';

const areaToken = (area: string) => `storage-token-for-${area}`;

beforeAll(async () => {
  imageId = ensureTestImage();
  api = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({ path: url.pathname + url.search, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const json = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    // Storage elements: /storage/<area>/<path>, wanting that area's token.
    const storage = /^\/storage\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (storage) {
      if (req.headers.authorization !== `Bearer ${areaToken(storage[1]!)}`) { res.writeHead(401); res.end(); return; }
      res.writeHead(200, { 'content-length': product.length }); res.end(product); return;
    }
    if (req.headers.authorization !== `Bearer ${DM_TOKEN}`) return json(401, { detail: 'Not authenticated' });
    const locate = /^\/api\/v1\/data\/locate\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (locate) {
      const [ns, name] = [decodeURIComponent(locate[1]!), decodeURIComponent(locate[2]!)];
      if (name === 'missing.fits') return json(404, { detail: `Data identifier '${ns}:${name}' not found` });
      const replica = (area: string) => `${base}/storage/${area}/${ns}/${name}`;
      if (name === 'only-metadata.fits') return json(200, [{ identifier: 'EVIL_RSE', replicas: ['http://169.254.169.254/latest/meta-data/x'], associated_storage_area_id: 'evil' }]);
      return json(200, [
        { identifier: 'EVIL_RSE', replicas: ['http://169.254.169.254/latest/meta-data/x'], associated_storage_area_id: 'evil' },
        { identifier: 'NEAR_RSE', replicas: [replica('near-area')], associated_storage_area_id: 'near-area' },
        { identifier: 'FAR_RSE', replicas: [replica('far-area')], associated_storage_area_id: 'far-area' },
      ]);
    }
    const download = /^\/api\/v1\/data\/download\/([^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) return json(200, { access_token: areaToken(decodeURIComponent(download[1]!)), token_type: 'bearer' });
    json(404, { detail: 'Not Found' });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const sources = { ...NO_SOURCES, skao: [{ name: 'srcnet-dm', endpoint: `${base}/api/v1`, auth: { token: DM_TOKEN } }] };
  const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy: egressPolicy(new URL(base).host), sources, attempts: 2 } });
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 400 } });
}, 60_000);

afterAll(async () => {
  await h.stop();
  await new Promise((r) => api.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const run = (skao: Record<string, unknown>) => h.run({
  executable: { image: { locations: [TEST_IMAGE], digest: imageId }, command: ['sh', '-c', 'md5sum /input/*.fits'] },
  extra: [
    { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
    { role: 'data', name: 'product', kind: Kinds.skaoData, spec: { storage: 'work', skao: { namespace: 'testing', objecttype: 'FILE', ...skao } } },
    { role: 'volume', name: 'v', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
  ],
});
const ended = async (p: Promise<string>) => h.ended(await p, 60_000);
const dataText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'data'));
const log = (r: ExecutionRecord) => messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';

describe('SKAO data', () => {
  test('hostile: replicas only at the metadata service, a wrong checksum or size, a name that climbs, an unknown name', async () => {
    const [metadata, checksum, size, climbing, unknown] = await Promise.all([
      ended(run({ objectname: 'only-metadata.fits' })),
      ended(run({ objectname: 'cube.fits', checksum: { type: 'adler32', value: '0badc0de' } })),
      ended(run({ objectname: 'cube.fits', datasize: 1234 })),
      ended(run({ objectname: '../../../etc/passwd' })),
      ended(run({ objectname: 'missing.fits' })),
    ]);
    for (const r of [metadata, checksum, size, climbing, unknown]) expect(r.execution.phase).toBe('FAILED');
    expect(dataText(metadata)).toContain('no replica of testing:only-metadata.fits can be fetched');
    expect(dataText(metadata)).toContain('urn:data-replica-refused');
    expect(dataText(checksum)).toMatch(/adler32 checksum [0-9a-f]{8} does not match the expected 0badc0de/);
    expect(dataText(size)).toContain(`the server sends ${product.length} bytes where 1234 were expected`);
    expect(dataText(climbing)).toContain('nor have');
    expect(dataText(unknown)).toContain('HTTP 404');
    expect(calls.some((c) => c.path.includes('etc/passwd'))).toBe(false);
  }, 90_000);

  test('located nearest first, a storage token asked for the area, the replica fetched with it, size and Adler-32 checked', async () => {
    const before = calls.length;
    const r = await ended(run({ objectname: 'cube.fits', datasize: product.length, checksum: { type: 'adler32', value: adler32Of(product) } }));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(`${productMd5}  /input/cube.fits`);
    const mine = calls.slice(before);
    expect(mine[0]).toEqual({ path: '/api/v1/data/locate/testing/cube.fits?sort=nearest_by_ip', auth: `Bearer ${DM_TOKEN}` });
    expect(mine).toContainEqual({ path: '/api/v1/data/download/near-area/testing/cube.fits', auth: `Bearer ${DM_TOKEN}` });
    expect(mine).toContainEqual({ path: '/storage/near-area/testing/cube.fits', auth: `Bearer ${areaToken('near-area')}` });
    expect(mine.some((c) => c.path.startsWith('/storage/far-area'))).toBe(false);
    expect(messagesOf(r, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-located', values: expect.objectContaining({ site: 'NEAR_RSE' }) }));
  }, 60_000);

  test('the request\'s listed replicas choose the storage element first', async () => {
    const before = calls.length;
    const r = await ended(run({ objectname: 'cube.fits', replicas: [{ rsename: 'FAR_RSE', dataurl: 'ignored' }] }));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(calls.slice(before)).toContainEqual({ path: '/storage/far-area/testing/cube.fits', auth: `Bearer ${areaToken('far-area')}` });
  }, 60_000);
});
