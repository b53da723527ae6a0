import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import yaml from 'js-yaml';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import { StepQueues, redisConnection, stepJobId, type PlatformConfig } from '@eb/core';
import { findExecutionRow } from '@eb/db';
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
    defaults: { durationMs: 3_600_000, cores: 1, memoryGib: 1, storageGib: 1 },
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
    req.executable.image.digest = 'sha256:0123';
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

  test('a request larger than the platform gets NO naming the short resource', async () => {
    const req = await minimal();
    req.compute = { kind: Kinds.simpleCompute, cores: { min: 2 }, memory: { min: 64 } };
    const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
    expect(res.body.result).toBe('NO');
    expect(res.body.meta.messages[0]).toMatchObject({ kind: 'urn:insufficient-resources', values: { resources: 'memory' } });
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
    const xml = await request(app).post('/offersets').set('Content-Type', 'application/xml').send('<x/>');
    expect(xml.status).toBe(415);
    expect(xml.headers['content-type']).toMatch(/problem\+json/);
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

describe('POST /direct', () => {
  test('requests and accepts the first offer in one call, and queues its first step', async () => {
    const res = await request(app).post('/direct').send(await minimal());
    expect(res.status).toBe(303);
    const uuid = res.headers.location!.split('/').pop()!;
    expect((await findExecutionRow(db.db, uuid))?.phase).toBe('ACCEPTED');
    const job = await queues.for(config.platform.name).getJob(stepJobId(uuid, 'ACCEPTED'));
    expect(job?.data).toEqual({ uuid, phase: 'ACCEPTED' });
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
    // A platform of its own, empty; a two-day offer for every core of it, expiring in 300 ms.
    const p = await testPlatform(db.db, { cores: 8, memoryGib: 16 });
    const own = { ...config, platform: { ...config.platform, name: p.name }, offers: { ...config.offers, platform: p.name } };
    const app = createApp({ db: db.db, queues, config: own, logger: quietLogger, auth: noAuth });
    await storeOfferSet(db.db, p.name, [{ cores: 8, durationMs: 2 * 86_400_000 }], 300);
    const blocked = await request(app).post('/offersets').set('Prefer', 'return=representation').send(await minimal());
    expect(blocked.body.result).toBe('NO');
    expect(blocked.body.meta.messages[0].values.resources).toBe('cores');
    await new Promise((r) => setTimeout(r, 400));
    const freed = await request(app).post('/offersets').set('Prefer', 'return=representation').send(await minimal());
    expect(freed.body.result).toBe('YES');
    expect(Date.parse(freed.body.offers[0].schedule.preparing.start)).toBeLessThan(Date.now() + 5000);
  });
});
