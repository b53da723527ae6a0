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
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { NO_SOURCES } from '../src/staging/sources.js';

// IVOA data resolved through DataLink (a stand-in service answering VOTables as DataLink 1.1 has them)
// or ObsCore, staged by the Docker platform and read by a real container.
const dataDir = mkdtempSync(join(tmpdir(), 'eb-ivoa-test-'));
const cube = randomBytes(1_200_000);
const cubeMd5 = createHash('md5').update(cube).digest('hex');
let server: Server;
let base = '';
let h: Harness;
let imageId = '';

const FIELDS = ['ID', 'access_url', 'service_def', 'error_message', 'description', 'semantics', 'content_type', 'content_length'];
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
/** A DataLink response: a VOTable whose results table has the DataLink fields, one TR per link. */
const votable = (rows: Partial<Record<string, string>>[]) => `<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.3">
 <RESOURCE type="results">
  <INFO name="standardID" value="ivo://ivoa.net/std/DataLink#links-1.1"/>
  <TABLE>
${FIELDS.map((f) => `   <FIELD name="${f}" datatype="${f === 'content_length' ? 'long' : 'char'}"${f === 'content_length' ? '' : ' arraysize="*"'}/>`).join('\n')}
   <DATA><TABLEDATA>
${rows.map((r) => `    <TR>${FIELDS.map((f) => (r[f] === undefined ? '<TD/>' : `<TD>${xmlEscape(r[f]!)}</TD>`)).join('')}</TR>`).join('\n')}
   </TABLEDATA></DATA>
  </TABLE>
 </RESOURCE>
</VOTABLE>`;

const BOMB = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><VOTABLE><RESOURCE><TABLE><FIELD name="access_url"/><DATA><TABLEDATA><TR><TD>&lol2;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>`;

function links(id: string): string {
  const row = (r: Partial<Record<string, string>>) => ({ ID: id, ...r });
  switch (id) {
    case 'ivo://example.org/survey?cube-1':
      return votable([
        row({ access_url: `${base}/files/cube-1.fits`, semantics: '#this', content_type: 'application/fits', content_length: String(cube.length), description: 'the cube' }),
        row({ access_url: `${base}/files/cube-1.png`, semantics: '#preview', content_type: 'image/png', content_length: '100' }),
      ]);
    case 'ivo://example.org/survey?to-a-file':
      return votable([row({ access_url: 'file:///etc/passwd', semantics: '#this' })]);
    case 'ivo://example.org/survey?to-metadata':
      return votable([row({ access_url: 'http://169.254.169.254/latest/meta-data/iam', semantics: '#this' })]);
    case 'ivo://example.org/survey?wrong-length':
      return votable([row({ access_url: `${base}/files/cube-1.fits`, semantics: '#this', content_length: '1000' })]);
    default:
      return votable([row({ semantics: '#this', error_message: `NotFoundFault: ${id} is not known here` })]);
  }
}

beforeAll(async () => {
  imageId = ensureTestImage();
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/links') { res.writeHead(200, { 'content-type': 'application/x-votable+xml;content=datalink' }); res.end(links(url.searchParams.get('ID') ?? '')); return; }
    if (url.pathname === '/bomb') { res.writeHead(200, { 'content-type': 'application/x-votable+xml;content=datalink' }); res.end(BOMB); return; }
    if (url.pathname === '/endless') { res.writeHead(200, { 'content-type': 'application/x-votable+xml;content=datalink' }); res.write('<VOTABLE>'); const chunk = '<!-- '.padEnd(65_536, 'x') + ' -->'; for (let i = 0; i < 80; i++) res.write(chunk); res.end('</VOTABLE>'); return; }
    if (url.pathname === '/files/cube-1.fits') { res.writeHead(200, { 'content-length': cube.length }); res.end(cube); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sources = { ...NO_SOURCES, ivoa: [{ name: 'survey-archive', datalink: `${base}/links`, hosts: ['127.0.0.1'] }] };
  const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy: egressPolicy(new URL(base).host), sources, attempts: 2 } });
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 400 } });
}, 60_000);

afterAll(async () => {
  await h.stop();
  await new Promise((r) => server.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const run = (ivoa: Record<string, unknown>) => h.run({
  executable: { image: { locations: [TEST_IMAGE], digest: imageId }, command: ['sh', '-c', 'md5sum /input/*.fits'] },
  extra: [
    { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
    { role: 'data', name: 'cube', kind: Kinds.ivoaData, spec: { storage: 'work', ivoa } },
    { role: 'volume', name: 'v', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
  ],
});
const ended = async (p: Promise<string>) => h.ended(await p, 60_000);
const dataText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'data'));
const log = (r: ExecutionRecord) => messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';
const DATALINK = 'application/x-votable+xml;content=datalink';

describe('IVOA data', () => {
  test('hostile: #this pointing at file: or the metadata service, an entity bomb, an endless document, an unknown ID, a wrong length', async () => {
    const [toFile, toMetadata, bomb, endless, unknown, wrongLength, inlineFile] = await Promise.all([
      ended(run({ ivoid: 'ivo://example.org/survey?to-a-file' })),
      ended(run({ ivoid: 'ivo://example.org/survey?to-metadata' })),
      ended(run({ obscore: { access_url: `${base}/bomb`, access_format: DATALINK } })),
      ended(run({ obscore: { access_url: `${base}/endless`, access_format: DATALINK } })),
      ended(run({ ivoid: 'ivo://example.org/survey?nothing' })),
      ended(run({ ivoid: 'ivo://example.org/survey?wrong-length' })),
      ended(run({ datalink: { access_url: 'file:///etc/shadow', semantics: '#this' } })),
    ]);
    for (const r of [toFile, toMetadata, bomb, endless, unknown, wrongLength, inlineFile]) expect(r.execution.phase).toBe('FAILED');
    expect(dataText(toFile)).toContain('the scheme file: is not allowed');
    expect(dataText(inlineFile)).toContain('the scheme file: is not allowed');
    expect(dataText(toMetadata)).toContain('169.254.169.254 is in a network the broker does not fetch from');
    expect(dataText(bomb)).toContain('DOCTYPE or entity declarations');
    expect(dataText(endless)).toContain('longer than');
    expect(dataText(unknown)).toContain('NotFoundFault: ivo://example.org/survey?nothing is not known here');
    expect(dataText(wrongLength)).toContain(`the server sends ${cube.length} bytes where 1000 were expected`);
  }, 90_000);

  test('an ivoid: the configured DataLink service asked, the #this row staged with its length checked', async () => {
    const r = await ended(run({ ivoid: 'ivo://example.org/survey?cube-1' }));
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(`${cubeMd5}  /input/cube-1.fits`);
    expect(messagesOf(r, 'data')).toContainEqual(expect.objectContaining({ kind: 'urn:data-located', values: expect.objectContaining({ url: `${base}/files/cube-1.fits` }) }));
  }, 60_000);

  test('an ObsCore access_url, as DataLink and as the file itself', async () => {
    const viaLinks = await ended(run({ obscore: { access_url: `${base}/links?ID=${encodeURIComponent('ivo://example.org/survey?cube-1')}`, access_format: DATALINK } }));
    const direct = await ended(run({ obscore: { access_url: `${base}/files/cube-1.fits`, access_format: 'application/fits' } }));
    for (const r of [viaLinks, direct]) {
      expect(r.execution.phase).toBe('COMPLETED');
      expect(log(r)).toContain(cubeMd5);
    }
  }, 60_000);
});
