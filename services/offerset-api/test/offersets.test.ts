import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import yaml from 'js-yaml';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import { readXml, writeXml } from '@eb/http-kit';
import { StepQueues, redisConnection, stepJobId, type PlatformConfig } from '@eb/core';
import { findExecutionRow, transitionExecution } from '@eb/db';
import { noAuth, quietLogger, readRequest, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { storeOfferSet } from '@eb/tests/support/offers.js';
import { createApp } from '../src/app.js';
import type { OffersetApiConfig } from '../src/config.js';

const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
let app: Express;
let config: OffersetApiConfig;

beforeAll(async () => {
  const p = await testPlatform(db.db, { cores: 8, memoryGib: 16 });
  const platform: PlatformConfig = { ...p, type: 'simulated', prepareMs: 30_000, releaseMs: 10_000 };
  config = {
    port: 0, host: '127.0.0.1', databaseUrl: '', redisUrl: '', platform,
    offers: { platform: p.name, offerTtlMs: 300_000, prepareMs: 30_000, releaseMs: 10_000, maxOffers: 3, horizonMs: 86_400_000, slotMs: 900_000, maxCandidates: 200 },
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1, dataStorageGib: 10 },
  };
  app = createApp({ db: db.db, queues, config, logger: quietLogger, auth: noAuth });
});

afterAll(async () => {
  await queues.for(config.platform.name).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
  await db.close();
});

const minimal = () => readRequest('execution-request-docker-minimal.json');

describe('POST /offersets', () => {
  test('answers 303 See Other to the new offer set, which holds offers meeting the request', async () => {
    const res = await request(app).post('/offersets').send(await minimal());
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/\/offersets\/[0-9a-f-]{36}$/);
    const set = await request(app).get(new URL(res.headers.location!).pathname);
    expect(set.status).toBe(200);
    expect(set.body.kind).toBe(Kinds.offerSet);
    expect(set.body.result).toBe('YES');
    expect(set.body.offers.length).toBeGreaterThanOrEqual(1);
    expect(set.body.offers.length).toBeLessThanOrEqual(3);
    const expiresIn = Date.parse(set.body.offers[0].expires) - Date.now();
    expect(expiresIn).toBeGreaterThan(290_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    for (const offer of set.body.offers) {
      expect(offer.kind).toBe(Kinds.scheduledSession);
      expect(offer.phase).toBe('OFFERED');
      expect(offer.meta.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(offer.executable.kind).toBe(Kinds.dockerContainer);
      expect(offer.executable.image.digest).toMatch(/^sha256:/);
      expect(offer.schedule.available.duration).toBe('PT1H');
      expect(offer.schedule.preparing.duration).toBe('PT30S');
    }
  });

  test('Prefer: return=representation answers 200 with the body; YAML in and out', async () => {
    const req = await readRequest('execution-request-docker-compute-schedule.json');
    req.executable.image.digest = 'sha256:0123012301230123012301230123012301230123012301230123012301230123';
    // The fixture asks for 2030; bring its start interval within the booking horizon.
    const from = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
    req.schedule.requested.start = `${from.toISOString().replace('.000Z', 'Z')}/PT1H`;
    const withDigest = yaml.dump(req);
    const res = await request(app).post('/offersets')
      .set('Content-Type', 'application/yaml').set('Accept', 'application/yaml').set('Prefer', 'return=representation')
      .send(withDigest);
    expect(res.status).toBe(200);
    expect(res.headers['preference-applied']).toBe('return=representation');
    expect(res.headers['content-type']).toMatch(/yaml/);
    const set = yaml.load(res.text) as { result: string; offers: { compute: { cores: { min: number } }; schedule: { preparing: { start: string } } }[] };
    expect(set.result).toBe('YES');
    // The request asks for 2-4 cores starting in the given hour, for 10 minutes.
    for (const o of set.offers) {
      expect(o.compute.cores.min).toBeGreaterThanOrEqual(2);
      expect(o.compute.cores.min).toBeLessThanOrEqual(4);
      const start = Date.parse(o.schedule.preparing.start);
      expect(start).toBeGreaterThanOrEqual(from.getTime());
      expect(start).toBeLessThanOrEqual(from.getTime() + 3_600_000);
    }
  });

  test('a docker image without a digest is understood but refused: result NO with urn:missing-value', async () => {
    const req = await minimal();
    delete req.executable.image.digest;
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('NO');
    expect(res.body.offers).toEqual([]);
    expect(res.body.meta.messages).toEqual([expect.objectContaining({
      kind: 'urn:missing-value', level: 'ERROR', template: 'Missing value [{path}]',
      values: { path: 'executable.image.digest' }, message: 'Missing value [executable.image.digest]',
    })]);
  });

  test('a minimum larger than the platform gets NO with urn:resource-limit; a maximum beyond it is lowered, with a warning', async () => {
    const req = await minimal();
    req.compute = { kind: Kinds.simpleCompute, cores: { min: 2 }, memory: { min: 64 } };
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(res.body.result).toBe('NO');
    expect(res.body.meta.messages).toEqual([expect.objectContaining({ kind: 'urn:resource-limit', level: 'ERROR', values: expect.objectContaining({ what: 'memory', min: '64', available: '16' }) })]);
    req.compute = { kind: Kinds.simpleCompute, cores: { min: 1, max: 64 } };
    const capped = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(capped.body.result).toBe('YES');
    expect(capped.body.meta.messages).toEqual([expect.objectContaining({ kind: 'urn:resource-limit', level: 'WARN', values: expect.objectContaining({ what: 'cores', max: '64', available: '8' }) })]);
    for (const o of capped.body.offers) expect(o.compute.cores.min).toBeLessThanOrEqual(8);
    for (const o of capped.body.offers) await transitionExecution(db.db, o.meta.uuid, 'OFFERED', 'REJECTED');
    req.compute = { kind: Kinds.simpleCompute };
    req.storage = [{ kind: Kinds.simpleStorage, size: { min: 5000 } }];
    const big = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(big.body.meta.messages).toEqual([expect.objectContaining({ kind: 'urn:resource-limit', values: { size: '5000', available: '1000' } })]);
  });

  test('a kind URI the spec does not know gets NO with uri:unknown-type (a kind that is no URI stays a 400)', async () => {
    const req = await minimal();
    req.data = [{ kind: 'https://example.org/kinds/data/tape-robot.yaml', meta: { name: 'tape' } }];
    req.compute = { kind: Kinds.simpleCompute, volumes: [{ kind: 'urn:example:volume:magic', path: '/x', resource: 'y' }] };
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('NO');
    expect(res.body.meta.messages.map((m: { kind: string; values: Record<string, string> }) => [m.kind, m.values.path])).toEqual([
      ['uri:unknown-type', 'compute.volumes[0]'], ['uri:unknown-type', 'data[0]'],
    ]);
    expect(res.body.meta.messages[1].message).toBe('Unknown kind [https://example.org/kinds/data/tape-robot.yaml] at [data[0]]');
    req.data = [{ kind: 'tape-robot' }];
    req.compute = { kind: Kinds.simpleCompute };
    expect((await request(app).post('/offersets').send(req)).status).toBe(400);
  });

  test('schema-invalid input is a 400 problem naming the field', async () => {
    const req = await minimal();
    req.compute = { kind: Kinds.simpleCompute, cores: { min: 'many' } };
    const res = await request(app).post('/offersets').send(req);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(res.body.errors).toContainEqual({ pointer: '/compute/cores/min', message: 'must be integer' });
    expect(res.body.detail).toContain('/compute/cores/min');
  });

  test('malformed JSON and YAML are 400 problems, other media types 415', async () => {
    const bad = await request(app).post('/offersets').set('Content-Type', 'application/json').send('{"executable": ');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/not valid JSON/);
    const badYaml = await request(app).post('/offersets').set('Content-Type', 'application/yaml').send('executable: [unclosed');
    expect(badYaml.status).toBe(400);
    expect(badYaml.body.detail).toMatch(/not valid YAML/);
    const csv = await request(app).post('/offersets').set('Content-Type', 'text/csv').send('a,b');
    expect(csv.status).toBe(415);
    expect(csv.headers['content-type']).toMatch(/problem\+json/);
    const badXml = await request(app).post('/offersets').set('Content-Type', 'application/xml').send('<offers-request><executable></offers-request>');
    expect(badXml.status).toBe(400);
    expect(badXml.body.detail).toMatch(/not acceptable XML/);
    const xxe = await request(app).post('/offersets').set('Content-Type', 'application/xml')
      .send('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><offers-request>&x;</offers-request>');
    expect(xxe.status).toBe(400);
    expect(xxe.body.detail).toMatch(/DOCTYPE/);
  });

  test('the older EB kind URIs are accepted and answered with 1.0.7 kinds', async () => {
    const res = await request(app).post('/requests').set('Content-Type', 'application/yaml').set('Prefer', 'return=representation').send(
      'executable:\n  kind: https://www.purl.org/ivoa.net/EB/schema/v1.0/types/executable/jupyter-notebook-1.0\n  location: https://example.org/n.ipynb\n'
      + 'compute:\n  kind: https://www.purl.org/ivoa.net/EB/schema/v1.0/types/compute/simple-compute-resource-1.0\n  cores:\n    min: 1\n');
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('YES');
    expect(res.body.offers[0].executable.kind).toBe(Kinds.jupyterNotebook);
    expect(res.body.offers[0].compute.kind).toBe(Kinds.simpleCompute);
  });

  test('unknown offer set is a 404 problem', async () => {
    const res = await request(app).get('/offersets/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect((await request(app).get('/offersets/not-a-uuid')).status).toBe(404);
  });
});

describe('XML', () => {
  // UUIDs and instants differ between offer sets; everything else must be the same.
  function normalized(set: unknown): unknown {
    const ids = new Map<string, string>();
    const text = JSON.stringify(set)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => { if (!ids.has(u)) ids.set(u, `uuid-${ids.size}`); return ids.get(u)!; })
      .replace(/"(created|modified|expires|time)":"[^"]+"/g, '"$1":"-"')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://broker');
    return JSON.parse(text);
  }
  const reject = async (set: { offers: { meta: { uuid: string } }[] }) => {
    for (const o of set.offers) await transitionExecution(db.db, o.meta.uuid, 'OFFERED', 'REJECTED');
  };

  test('the same request in JSON, YAML and XML gives equal offers; XML answers read back equal to JSON ones', async () => {
    const req = await readRequest('execution-request-http-data-volume.json');
    req.executable.labels = { team: 'radio & optical' };
    req.executable.environment = { MODE: '<fast>' };
    req.compute.cores = { min: 1, max: 2 };
    const from = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 12 * 3_600_000).toISOString().replace('.000Z', 'Z');
    req.schedule = { requested: { start: `${from}/PT1H`, duration: 'PT30M' } };
    req.costs = [{ kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml', type: 'urn:ivoa:calycopis:cost:monetary', max: 10.5 }];
    const bodies: [string, string][] = [
      ['application/json', JSON.stringify(req)],
      ['application/yaml', yaml.dump(req)],
      ['application/xml', writeXml(req, 'ExecutionRequest')],
    ];
    expect(bodies[2]![1]).toContain('<offers-request>');
    const answers = [];
    for (const [type, body] of bodies) {
      const res = await request(app).post('/requests').set('Content-Type', type).set('Prefer', 'return=representation').send(body);
      expect({ type, status: res.status }).toEqual({ type, status: 200 });
      expect(res.body.result).toBe('YES');
      answers.push(res.body);
      // As XML too, the same offer set: read back, it equals the JSON answer.
      const asXml = await request(app).get(`/offersets/${res.body.meta.uuid}`).set('Accept', 'application/xml');
      expect(asXml.headers['content-type']).toMatch(/^application\/xml/);
      expect(asXml.text).toMatch(/<offers-response kind="[^"]+"><meta>/);
      // (supertest serves each request on a port of its own.)
      const unported = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://broker'));
      expect(unported(readXml(asXml.text, 'OfferSetResponse'))).toEqual(unported(res.body));
      await reject(res.body);
    }
    expect(answers[0].offers.length).toBeGreaterThan(0);
    expect(answers[0].offers[0].executable.labels).toEqual({ team: 'radio & optical' });
    expect(normalized(answers[1])).toEqual(normalized(answers[0]));
    expect(normalized(answers[2])).toEqual(normalized(answers[0]));
  });
});

describe('costs and metrics', () => {
  const COST = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml';
  const METRIC = 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/metrics/simple-minmax-float-metric.yaml';
  type Item = { type: string; min: number; max: number; units: string; kind: string };
  const byType = (items: Item[], type: string) => items.find((i) => i.type === `urn:ivoa:calycopis:${type}`)!;
  // Half a day ahead, clear of what the other tests hold; the offers are rejected after, giving it back.
  const ask = async (extra: Record<string, unknown>) => {
    const from = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 12 * 3_600_000).toISOString().replace('.000Z', 'Z');
    const req = {
      ...(await minimal()), compute: { kind: Kinds.simpleCompute, cores: { min: 1, max: 4 }, memory: { min: 1, max: 1 } },
      schedule: { requested: { start: `${from}/PT1H`, duration: 'PT1H' } }, ...extra,
    };
    const body = (await request(app).post('/offersets').set('Prefer', 'return=representation').send(req)).body;
    for (const o of body.offers) await transitionExecution(db.db, o.meta.uuid, 'OFFERED', 'REJECTED');
    return body;
  };

  test('every offer and its compute quote costs (min/max, units) and metrics from the platform profile', async () => {
    const set = await ask({});
    expect(set.result).toBe('YES');
    for (const o of set.offers) {
      const hours = (30 + 3600 + 10) / 3600;
      const cores = o.compute.cores.min;
      const money = byType(o.costs, 'cost:monetary');
      expect(money).toMatchObject({ kind: COST, units: 'EUR' });
      expect(money.min).toBeCloseTo((0.03 * cores + 0.004) * hours, 5);
      expect(money.max).toBeCloseTo((0.05 * cores + 0.006) * hours, 5);
      const energy = byType(o.costs, 'cost:energy');
      expect(energy.units).toBe('kWh');
      expect(byType(o.costs, 'cost:carbon')).toMatchObject({ units: 'gCO2', min: expect.closeTo(energy.min * 100, 3), max: expect.closeTo(energy.max * 300, 3) });
      expect(byType(o.metrics, 'metric:compute-performance')).toMatchObject({ kind: METRIC, min: 90, max: 110 });
      expect(byType(o.compute.costs, 'cost:monetary')).toMatchObject({ units: 'EUR/h', min: expect.closeTo(0.03 * cores + 0.004, 5) });
      expect(byType(o.compute.metrics, 'metric:io-throughput')).toMatchObject({ units: 'MB/s', min: 200, max: 400 });
    }
  });

  test('a cost ceiling keeps only the offers within it; a metric floor the platform meets changes nothing', async () => {
    const all = await ask({});
    expect(all.offers.map((o: { compute: { cores: { min: number } } }) => o.compute.cores.min)).toEqual(expect.arrayContaining([1, 4]));
    const ceiling = 0.1; // 1 core costs at most ~0.056, 4 cores ~0.21
    const capped = await ask({
      costs: [{ kind: COST, type: 'urn:ivoa:calycopis:cost:monetary', max: ceiling }],
      metrics: [{ kind: METRIC, type: 'urn:ivoa:calycopis:metric:compute-performance', min: 50.0 }],
    });
    expect(capped.result).toBe('YES');
    expect(capped.offers.length).toBeGreaterThan(0);
    expect(capped.offers.length).toBeLessThan(all.offers.length);
    for (const o of capped.offers) expect(byType(o.costs, 'cost:monetary').max).toBeLessThanOrEqual(ceiling);
  });

  test('constraints no offer can meet get NO with a message naming the constraint; unknown types are not supported', async () => {
    const cheap = await ask({ costs: [{ kind: COST, type: 'urn:ivoa:calycopis:cost:monetary', max: 0.001 }] });
    expect(cheap.result).toBe('NO');
    expect(cheap.meta.messages).toEqual([expect.objectContaining({
      kind: 'urn:cost-limit', values: expect.objectContaining({ type: 'urn:ivoa:calycopis:cost:monetary', limit: '0.001', path: 'costs[0]', units: 'EUR' }),
    })]);
    const fast = await ask({ compute: { kind: Kinds.simpleCompute, metrics: [{ kind: METRIC, type: 'urn:ivoa:calycopis:metric:compute-performance', min: 500 }] } });
    expect(fast.result).toBe('NO');
    expect(fast.meta.messages[0]).toMatchObject({ kind: 'urn:metric-limit', values: { path: 'compute.metrics[0]', best: '90', bound: 'min' } });
    const odd = await ask({ costs: [{ kind: COST, type: 'urn:example:cost:goodwill', max: 1 }] });
    expect(odd.result).toBe('NO');
    expect(odd.meta.messages[0]).toMatchObject({ kind: 'urn:not-supported', values: { type: 'urn:example:cost:goodwill' } });
  });
});

describe('labels (schema 1.0.8)', () => {
  test('labels are echoed in the offers; a reserved name gets NO with urn:reserved-label', async () => {
    const req = await minimal();
    req.executable.labels = { team: 'radio', 'org.example/run': '7' };
    const ok = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(ok.body.result).toBe('YES');
    for (const o of ok.body.offers) expect(o.executable.labels).toEqual({ team: 'radio', 'org.example/run': '7' });
    req.executable.labels['calycopis-broker-session-uid'] = 'mine';
    const refused = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(refused.body.result).toBe('NO');
    expect(refused.body.meta.messages).toEqual([expect.objectContaining({ kind: 'urn:reserved-label', values: expect.objectContaining({ name: 'calycopis-broker-session-uid' }) })]);
    req.executable.labels = { team: 7 };
    expect((await request(app).post('/offersets').send(req)).status).toBe(400);
  });
});

describe('storage linking', () => {
  const offerFor = async (req: unknown) => {
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req as object);
    expect(res.status).toBe(200);
    return res.body;
  };
  const uuids = (offer: { storage?: { meta: { uuid: string } }[]; data?: { meta: { uuid: string } }[] }) => ({
    storage: (offer.storage ?? []).map((s) => s.meta.uuid), data: (offer.data ?? []).map((d) => d.meta.uuid),
  });

  test('a data resource without storage gets a storage of its own, booked at the default size; references become UUIDs', async () => {
    const req = await readRequest('execution-request-http-data-volume.json');
    req.executable.image.digest = 'sha256:0123012301230123012301230123012301230123012301230123012301230123';
    const set = await offerFor(req);
    expect(set.result).toBe('YES');
    for (const offer of set.offers) {
      const { storage, data } = uuids(offer);
      expect(storage).toHaveLength(1);
      expect(offer.storage[0]).toMatchObject({ kind: Kinds.simpleStorage, size: { min: 10, max: 10 }, data: [data[0]], meta: { name: 'input-data-storage' } });
      expect(offer.data[0]).toMatchObject({ storage: storage[0], meta: { name: 'input-data' } });
      expect(offer.compute.volumes[0].resource).toBe(data[0]);
      // Every component of every offer has a UUID of its own.
      const all = [offer.executable, offer.compute, ...offer.compute.volumes, ...offer.storage, ...offer.data].map((c) => c.meta.uuid);
      expect(new Set(all).size).toBe(all.length);
    }
    expect(new Set(set.offers.map((o: { storage: { meta: { uuid: string } }[] }) => o.storage[0]!.meta.uuid)).size).toBe(set.offers.length);
    const booking = await db.db.selectFrom('bookings').select('storage_gib').where('execution_uuid', '=', set.offers[0].meta.uuid).executeTakeFirstOrThrow();
    expect(booking.storage_gib).toBe(10);
  });

  test('references by name or by the uuid the client gave; a size the data declares sizes its storage', async () => {
    const req = await minimal();
    req.storage = [{ kind: Kinds.simpleStorage, meta: { name: 'work', uuid: '11111111-1111-4111-8111-111111111111' }, size: { min: 3 } }];
    req.data = [
      { kind: Kinds.simpleData, meta: { name: 'a' }, location: 'https://example.org/a', storage: 'work' },
      { kind: Kinds.simpleData, meta: { name: 'b' }, location: 'https://example.org/b', storage: '11111111-1111-4111-8111-111111111111' },
      { kind: Kinds.skaoData, meta: { name: 'c' }, skao: { namespace: 'ns', objectname: 'obj', datasize: 5 * 2 ** 30 + 1 } },
    ];
    req.compute = { kind: Kinds.simpleCompute, volumes: [{ kind: Kinds.simpleVolumeMount, path: '/work', mode: 'READWRITE', resource: 'work' }] };
    const offer = (await offerFor(req)).offers[0];
    const { storage, data } = uuids(offer);
    expect(storage).toHaveLength(2);
    expect(storage[0]).not.toBe('11111111-1111-4111-8111-111111111111');
    expect(offer.storage[0]).toMatchObject({ size: { min: 3, max: 3 }, data: [data[0], data[1]] });
    expect(offer.storage[1]).toMatchObject({ size: { min: 6, max: 6 }, data: [data[2]], meta: { name: 'c-storage' } });
    expect(offer.data.map((d: { storage: string }) => d.storage)).toEqual([storage[0], storage[0], storage[1]]);
    expect(offer.compute.volumes[0].resource).toBe(storage[0]);
  });

  test('references that name nothing get NO with urn:resource-not-found', async () => {
    const req = await minimal();
    req.storage = [{ kind: Kinds.simpleStorage, meta: { name: 'work' }, data: ['nothing'] }];
    req.data = [{ kind: Kinds.simpleData, meta: { name: 'a' }, location: 'https://example.org/a', storage: 'elsewhere' }];
    req.compute = { kind: Kinds.simpleCompute, volumes: [{ kind: Kinds.simpleVolumeMount, path: '/x', resource: 'ghost' }] };
    const set = await offerFor(req);
    expect(set.result).toBe('NO');
    const notFound = set.meta.messages.filter((m: { kind: string }) => m.kind === 'urn:resource-not-found').map((m: { values: Record<string, string> }) => m.values);
    expect(notFound).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'data[0].storage', reference: 'elsewhere' }),
      expect.objectContaining({ path: 'storage[0].data[0]', reference: 'nothing' }),
      expect.objectContaining({ path: 'compute.volumes[0].resource', reference: 'ghost' }),
    ]));
    expect(notFound).toHaveLength(3);
  });
});

describe('POST /direct', () => {
  test('requests and accepts the first offer in one call, and queues its first step', async () => {
    const res = await request(app).post('/direct').send(await minimal());
    expect(res.status).toBe(303);
    const uuid = res.headers.location!.split('/').pop()!;
    expect((await findExecutionRow(db.db, uuid))?.phase).toBe('ACCEPTED');
    // The execution's job (its key is the execution's) is queued for the workers.
    const job = await queues.for(config.platform.name).getJob(stepJobId(uuid));
    expect(job?.data).toEqual({ uuid });
  });

  test('a request the broker cannot meet is a 400 problem carrying the messages', async () => {
    const req = await minimal();
    delete req.executable.image.digest;
    const res = await request(app).post('/direct').send(req);
    expect(res.status).toBe(400);
    expect(res.body.messages[0].kind).toBe('urn:missing-value');
  });
});

describe('service endpoints', () => {
  test('serves the OpenAPI document, health, readiness and metrics', async () => {
    const doc = await request(app).get('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/offersets', '/executions/{uuid}', '/requests', '/direct', '/sessions/{uuid}']));
    expect((await request(app).get('/openapi.yaml')).text).toMatch(/^# Execution Broker OpenAPI/);
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/readyz')).status).toBe(200);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(/eb_offersets_total\{result="YES"/);
    expect(metrics.text).toMatch(/eb_http_request_duration_seconds_bucket/);
  });
});

describe('early start', () => {
  const earliestOf = async (body: Record<string, unknown>) => {
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(body);
    expect(res.body.result).toBe('YES');
    return Promise.all((res.body.offers as { meta: { uuid: string } }[]).map(async (o) => (await findExecutionRow(db.db, o.meta.uuid))!.earliest_start));
  };
  const interactive = async () => ({ ...await minimal(), executable: { ...(await minimal()).executable, network: { ports: [{ path: '/', access: true }] } } });

  test('a batch request may start as soon as capacity frees up, never before its window; an interactive one only if its owner says so', async () => {
    const before = Date.now();
    for (const e of await earliestOf(await minimal())) expect(e!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const windowStart = new Date(Date.now() + 3_600_000);
    const windowed = { ...await minimal(), schedule: { requested: { start: `${windowStart.toISOString()}/PT2H` } } };
    for (const e of await earliestOf(windowed)) expect(e).toEqual(windowStart);
    for (const e of await earliestOf(await interactive())) expect(e).toBeNull();
    const allowed = { ...await interactive(), schedule: { requested: { earlyStart: true } } };
    for (const e of await earliestOf(allowed)) expect(e).not.toBeNull();
    const refused = { ...await minimal(), schedule: { requested: { earlyStart: false } } };
    for (const e of await earliestOf(refused)) expect(e).toBeNull();
  });

  test('an earlyStart that is not true or false is answered NO naming it', async () => {
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation')
      .send({ ...await minimal(), schedule: { requested: { earlyStart: 'soon' } } });
    expect(res.body.result).toBe('NO');
    expect(res.body.meta.messages[0]).toMatchObject({ kind: 'urn:invalid-value', values: { path: 'schedule.requested.earlyStart' } });
  });
});

describe('holds', () => {
  test('an offer holds its capacity until it expires, then the capacity is offered again', async () => {
    // A platform of its own: what earlier tests hold or booked must not decide when capacity is free here.
    const own = await testPlatform(db.db, { cores: 8, memoryGib: 16 });
    const ownConfig: OffersetApiConfig = { ...config, platform: { ...config.platform, ...own }, offers: { ...config.offers, platform: own.name } };
    const app = createApp({ db: db.db, queues, config: ownConfig, logger: quietLogger, auth: noAuth });
    // A two-day offer for every core of the platform, expiring in 3 s (long enough for a loaded machine to ask once).
    const expires = Date.now() + 3000;
    await storeOfferSet(db.db, own.name, [{ cores: 8, durationMs: 2 * 86_400_000 }], 3000);
    const blocked = await request(app).post('/offersets').set('Prefer', 'return=representation').send(await minimal());
    expect(blocked.body.result).toBe('NO');
    expect(blocked.body.meta.messages[0].values.resources).toBe('cores');
    await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now()) + 100));
    const freed = await request(app).post('/offersets').set('Prefer', 'return=representation').send(await minimal());
    expect(freed.body.result).toBe('YES');
    expect(Date.parse(freed.body.offers[0].schedule.preparing.start)).toBeLessThan(Date.now() + 5000);
  });
});

describe('open offer sets per owner', () => {
  test('past the cap, the owner\'s oldest unanswered sets are released (EXPIRED, holds given back)', async () => {
    const own = await testPlatform(db.db, { cores: 8, memoryGib: 16 });
    const capped: OffersetApiConfig = { ...config, platform: { ...config.platform, ...own }, offers: { ...config.offers, platform: own.name, maxOpenOfferSetsPerOwner: 3 } };
    const app = createApp({ db: db.db, queues, config: capped, logger: quietLogger, auth: noAuth });
    const sets: { uuid: string; offers: string[] }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(await minimal());
      expect(res.body.result).toBe('YES');
      sets.push({ uuid: res.body.meta.uuid, offers: res.body.offers.map((o: { meta: { uuid: string } }) => o.meta.uuid) });
    }
    const phases = async (s: { offers: string[] }) => Promise.all(s.offers.map(async (u) => (await findExecutionRow(db.db, u))!.phase));
    for (const old of sets.slice(0, 2)) expect(new Set(await phases(old))).toEqual(new Set(['EXPIRED']));
    for (const kept of sets.slice(2)) expect(new Set(await phases(kept))).toEqual(new Set(['OFFERED']));
    const held = await db.db.selectFrom('bookings').select('execution_uuid').where('execution_uuid', 'in', sets.slice(0, 2).flatMap((s) => s.offers))
      .where('released_at', 'is', null).execute();
    expect(held).toEqual([]);
  });
});
