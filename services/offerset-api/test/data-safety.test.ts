import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import type { PlatformAbilities } from '@eb/db';
import { SIMULATED_ABILITIES, readRequest } from '@eb/tests/support/env.js';
import { startDockerLikeApp, type DockerLikeApp } from './docker-like-app.js';

// Data in data services: the service comes from the platform's configured sources, never from the
// request; names the request gives are checked as data. Each is a NO at once, naming the field.
let t: DockerLikeApp;
let app: Express;

const ABILITIES: PlatformAbilities = {
  ...SIMULATED_ABILITIES,
  sources: [
    { kind: 's3', name: 'survey-s3', endpoint: 'https://s3.survey.example.org', templates: ['https://{bucket}.s3.survey.example.org/{object}'] },
    { kind: 's3', name: 'archive', endpoint: 'https://archive.example.org:9000' },
    { kind: 'rucio', name: 'srcnet-rucio', endpoint: 'https://rucio.srcnet.example.org' },
    { kind: 'skao', name: 'srcnet-dm', endpoint: 'https://dm.srcnet.example.org/api/v1' },
    { kind: 'ivoa', name: 'datalink', endpoint: 'https://archive.example.org/datalink/links' },
  ],
};

beforeAll(async () => {
  t = await startDockerLikeApp({ cores: 8, memoryGib: 16 }, ABILITIES, {});
  app = t.app;
});

afterAll(() => t.close());

type Msg = { kind: string; message: string; values: Record<string, string> };
async function offers(data: Record<string, unknown>) {
  const req = await readRequest('execution-request-docker-minimal.json');
  req.data = [{ meta: { name: 'in' }, ...data }];
  const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
  expect(res.status).toBe(200);
  return { result: res.body.result as string, messages: (res.body.meta.messages ?? []) as Msg[] };
}
const refusedAt = async (data: Record<string, unknown>, path: string, reason: RegExp) => {
  const set = await offers(data);
  expect(set.result).toBe('NO');
  const m = set.messages.find((x) => x.values?.path === path);
  expect(m).toMatchObject({ kind: 'urn:invalid-value' });
  expect(m!.message).toMatch(reason);
};

describe('S3', () => {
  const s3 = (extra: Record<string, unknown>) => ({ kind: Kinds.s3Data, bucket: 'survey', object: 'runs/cube.fits', ...extra });
  test.each([
    ['http://169.254.169.254/latest'], ['http://127.0.0.1:6379'], ['https://s3.attacker.example.com'],
  ])('an endpoint the broker is not configured for (%s)', async (endpoint) => {
    await refusedAt(s3({ endpoint }), 'data[0].endpoint', /not an S3 endpoint this broker is configured for \(configured: https:\/\/s3\.survey\.example\.org, https:\/\/archive\.example\.org:9000\)/);
  });
  test('a template the broker does not know', async () => {
    await refusedAt(s3({ template: 'http://{bucket}.evil.example.com/{object}' }), 'data[0].template', /not an S3 endpoint/);
  });
  test('neither, with two sources configured', async () => {
    await refusedAt(s3({}), 'data[0].endpoint', /not an S3 endpoint/);
  });
  test.each([
    [{ bucket: 'UPPER' }, 'data[0].bucket'], [{ bucket: '10.0.0.1' }, 'data[0].bucket'], [{ bucket: 'a..b' }, 'data[0].bucket'],
    [{ object: '../../etc/shadow' }, 'data[0].object'], [{ object: '/abs' }, 'data[0].object'], [{ object: 'a/./b' }, 'data[0].object'],
    [{ object: 'bad\u0007name' }, 'data[0].object'], [{ object: '' }, 'data[0].object'], [{ object: 'x'.repeat(1025) }, 'data[0].object'],
  ])('names that are not data: %j', async (change, path) => {
    await refusedAt(s3({ endpoint: 'https://s3.survey.example.org', ...change }), path, /./);
  });
  test('a configured endpoint (by URL, name or template) with a bucket and key: offers', async () => {
    for (const form of [{ endpoint: 'https://s3.survey.example.org/' }, { endpoint: 'archive' }, { template: 'https://{bucket}.s3.survey.example.org/{object}' }]) {
      expect((await offers(s3(form))).result).toBe('YES');
    }
  });
});

describe('Rucio', () => {
  const rucio = (block: Record<string, unknown>) => ({ kind: Kinds.rucioData, rucio: { scope: 'user.eb', object: 'cube.fits', type: 'FILE', ...block } });
  test('a server the broker is not configured for', async () => {
    await refusedAt(rucio({ endpoint: 'https://rucio.attacker.example.com' }), 'data[0].rucio.endpoint', /not a Rucio server this broker is configured for \(configured: https:\/\/rucio\.srcnet\.example\.org\)/);
  });
  test.each([
    [{ scope: '../etc' }, 'data[0].rucio.scope'], [{ scope: 'a'.repeat(26) }, 'data[0].rucio.scope'],
    [{ object: '../../passwd' }, 'data[0].rucio.object'], [{ object: 'dir/../x' }, 'data[0].rucio.object'], [{ object: 'x y' }, 'data[0].rucio.object'],
  ])('DIDs that are not data: %j', async (change, path) => {
    await refusedAt(rucio(change), path, /./);
  });
  test('the configured server (or none named, it being the only one): offers', async () => {
    expect((await offers(rucio({}))).result).toBe('YES');
    expect((await offers(rucio({ endpoint: 'srcnet-rucio' }))).result).toBe('YES');
  });
});

describe('IVOA', () => {
  const ivoa = (block: Record<string, unknown>) => ({ kind: Kinds.ivoaData, ivoa: block });
  test.each([
    [{ obscore: { access_url: 'file:///etc/passwd' } }, 'data[0].ivoa.obscore.access_url'],
    [{ obscore: { access_url: 'http://169.254.169.254/latest' } }, 'data[0].ivoa.obscore.access_url'],
    [{ datalink: { access_url: 'http://localhost:5432/' } }, 'data[0].ivoa.datalink.access_url'],
    [{}, 'data[0].ivoa'],
  ])('URLs the stager may not fetch, or nothing to resolve: %j', async (block, path) => {
    await refusedAt(ivoa(block), path, /./);
  });
  test('an ivoid (resolved by the configured DataLink service), a DataLink row or an ObsCore URL: offers', async () => {
    expect((await offers(ivoa({ ivoid: 'ivo://example.org/survey?cube-1' }))).result).toBe('YES');
    expect((await offers(ivoa({ obscore: { access_url: 'https://archive.example.org/links?ID=x', access_format: 'application/x-votable+xml;content=datalink' } }))).result).toBe('YES');
  });
});

describe('SKAO', () => {
  const skao = (block: Record<string, unknown>) => ({ kind: Kinds.skaoData, skao: { namespace: 'testing', objectname: 'cube.fits', ...block } });
  test.each([
    [{ namespace: '../..' }, 'data[0].skao.namespace'], [{ objectname: '../../etc/passwd' }, 'data[0].skao.objectname'], [{ datasize: -5 }, 'data[0].skao.datasize'],
  ])('names that are not data: %j', async (change, path) => {
    await refusedAt(skao(change), path, /./);
  });
  test('a namespace and name: offers', async () => {
    expect((await offers(skao({ datasize: 1000, checksum: { type: 'adler32', value: '0a0b0c0d' } }))).result).toBe('YES');
  });
});

describe('JupyterNotebook', () => {
  const notebook = async (executable: Record<string, unknown>) => {
    const req = { executable: { kind: Kinds.jupyterNotebook, ...executable } };
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    return { result: res.body.result as string, messages: (res.body.meta.messages ?? []) as Msg[] };
  };
  test.each(['file:///etc/passwd', 'http://169.254.169.254/nb.ipynb', 'http://localhost:8888/nb.ipynb'])('a notebook at %s: NO', async (location) => {
    const set = await notebook({ location });
    expect(set.result).toBe('NO');
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:invalid-value', values: expect.objectContaining({ path: 'executable.location' }) }));
  });
  test('no location: NO urn:missing-value; a public one: offers (interactive, with the executed notebook promised only to notebooks)', async () => {
    expect((await notebook({})).messages).toContainEqual(expect.objectContaining({ kind: 'urn:missing-value', values: { path: 'executable.location' } }));
    expect((await notebook({ location: 'https://notebooks.example.org/md5.ipynb' })).result).toBe('YES');
  });
});
