import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { sql } from 'kysely';
import { StepQueues, redisConnection, stepJobId } from '@eb/core';
import { findExecutionRow, transitionExecution } from '@eb/db';
import { readXml } from '@eb/http-kit';
import { databaseUrl, noAuth, quietLogger, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { storeOfferSet } from '@eb/tests/support/offers.js';
import { createApp } from '../src/app.js';
import { PhaseListener } from '../src/phases/listener.js';

const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
const listener = new PhaseListener(databaseUrl(), quietLogger);
let app: Express;
let platform: string;

beforeAll(async () => {
  await listener.start();
  platform = (await testPlatform(db.db)).name;
  app = createApp({ db: db.db, queues, listener, logger: quietLogger, auth: noAuth });
});

afterAll(async () => {
  await listener.stop();
  await queues.for(platform).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
  await db.close();
});

const update = (value: string, extra: Record<string, unknown> = {}) => ({ kind: 'uri:enum-value-update', path: 'phase', value, ...extra });
const bookingOf = (uuid: string) => db.db.selectFrom('bookings').selectAll().where('execution_uuid', '=', uuid).executeTakeFirstOrThrow();

describe('GET /executions/{uuid}', () => {
  test('returns the offer with its phase, stored schedule, components and history', async () => {
    const set = await storeOfferSet(db.db, platform, [{ prepareMs: 30_000, durationMs: 600_000, releaseMs: 10_000, cores: 2 }]);
    const offer = set.offers[0]!;
    const res = await request(app).get(`/executions/${offer.uuid}`);
    expect(res.status).toBe(200);
    expect(res.body.phase).toBe('OFFERED');
    expect(Date.parse(res.body.expires)).toBe(offer.expires.getTime());
    expect(res.body.schedule.preparing.duration).toBe('PT30S');
    expect(res.body.schedule.available.duration).toBe('PT10M');
    expect(res.body.schedule.releasing.duration).toBe('PT10S');
    expect(Date.parse(res.body.schedule.releasing.start)).toBe(Math.floor(offer.releaseStart.getTime() / 1000) * 1000);
    expect(res.body.compute.cores).toEqual({ min: 2, max: 2 });
    expect(res.body.executable.phase).toBe('INITIALIZING');
    expect(res.body.meta.messages.map((m: { values: { phase: string } }) => m.values.phase)).toEqual(['OFFERED']);
    // The upstream path serves the same resource.
    expect((await request(app).get(`/sessions/${offer.uuid}`)).body.meta.uuid).toBe(offer.uuid);
  });

  test('unknown or malformed uuids are 404 problems', async () => {
    for (const path of ['/executions/00000000-0000-4000-8000-000000000000', '/executions/nope', '/sessions/00000000-0000-4000-8000-000000000000']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    const post = await request(app).post('/executions/00000000-0000-4000-8000-000000000000').send(update('ACCEPTED'));
    expect(post.status).toBe(404);
  });
});

describe('POST /executions/{uuid}', () => {
  test('accepting one offer books it, rejects its siblings and releases their holds, and queues the first step', async () => {
    const set = await storeOfferSet(db.db, platform, [{}, { startInMs: 60_000 }, { startInMs: 120_000 }]);
    const [chosen, ...others] = set.offers;
    const res = await request(app).post(`/executions/${chosen!.uuid}`).send(update('ACCEPTED'));
    expect(res.status).toBe(200);
    expect(res.body.phase).toBe('ACCEPTED');
    expect((await bookingOf(chosen!.uuid)).hold_until).toBeNull();
    for (const o of others) {
      expect((await findExecutionRow(db.db, o.uuid))?.phase).toBe('REJECTED');
      expect((await bookingOf(o.uuid)).released_at).not.toBeNull();
    }
    expect((await queues.for(platform).getJob(stepJobId(chosen!.uuid)))?.data.uuid).toBe(chosen!.uuid);
    // Accepting again, or accepting a rejected sibling, is a conflict.
    const again = await request(app).post(`/sessions/${chosen!.uuid}`).send(update('ACCEPTED'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 409, phase: 'ACCEPTED' });
    expect((await request(app).post(`/executions/${others[0]!.uuid}`).send(update('ACCEPTED'))).status).toBe(409);
  });

  test('the phase path may be given as "phase" or as the JSON Pointer "/phase", on /executions and /sessions', async () => {
    for (const base of ['/executions', '/sessions']) {
      for (const path of ['phase', '/phase']) {
        const set = await storeOfferSet(db.db, platform, [{}, {}]);
        const [a, b] = set.offers;
        const accepted = await request(app).post(`${base}/${a!.uuid}`).send({ kind: 'uri:enum-value-update', path, value: 'ACCEPTED' });
        expect({ base, path, status: accepted.status, phase: accepted.body.phase }).toEqual({ base, path, status: 200, phase: 'ACCEPTED' });
        expect((await findExecutionRow(db.db, b!.uuid))?.phase).toBe('REJECTED');
        const cancelled = await request(app).post(`${base}/${a!.uuid}`).send({ kind: 'uri:enum-value-update', path, value: 'CANCELLED' });
        expect(cancelled.body.phase).toBe('CANCELLED');
      }
    }
    // Other pointers are still not the phase.
    const set = await storeOfferSet(db.db, platform, [{}]);
    const res = await request(app).post(`/sessions/${set.offers[0]!.uuid}`).send({ kind: 'uri:enum-value-update', path: '/phase/x', value: 'ACCEPTED' });
    expect(res.status).toBe(422);
  });

  test('XML: an update document in XML, and the execution as XML, read back equal to the JSON', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const uuid = set.offers[0]!.uuid;
    const accepted = await request(app).post(`/sessions/${uuid}`).set('Content-Type', 'application/xml').set('Accept', 'application/xml')
      .send('<?xml version="1.0"?>\n<update kind="uri:enum-value-update"><path>/phase</path><value>ACCEPTED</value></update>');
    expect(accepted.status).toBe(200);
    expect(accepted.headers['content-type']).toMatch(/^application\/xml/);
    expect(accepted.text).toMatch(/<execution kind="[^"]+scheduled-execution-session.yaml"><meta>/);
    expect(accepted.text).toContain('<phase>ACCEPTED</phase>');
    const json = await request(app).get(`/sessions/${uuid}`);
    const xml = await request(app).get(`/sessions/${uuid}`).set('Accept', 'application/xml');
    const unported = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://broker'));
    expect(unported(readXml(xml.text, 'AbstractExecutionSession'))).toEqual(unported(json.body));
    const bad = await request(app).post(`/sessions/${uuid}`).set('Content-Type', 'application/xml').send('<update kind="uri:enum-value-update"><path>phase</path></update>');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toContainEqual(expect.objectContaining({ pointer: '/value' }));
  });

  test('rejecting an offer releases its hold; cancelling an accepted one queues its release', async () => {
    const set = await storeOfferSet(db.db, platform, [{}, {}]);
    const [a, b] = set.offers;
    const rejected = await request(app).post(`/executions/${a!.uuid}`).set('Content-Type', 'application/yaml').send('kind: uri:enum-value-update\npath: phase\nvalue: REJECTED\n');
    expect(rejected.status).toBe(200);
    expect(rejected.body.phase).toBe('REJECTED');
    expect((await bookingOf(a!.uuid)).released_at).not.toBeNull();
    expect((await request(app).post(`/executions/${b!.uuid}`).send(update('ACCEPTED'))).status).toBe(200);
    const cancelled = await request(app).post(`/executions/${b!.uuid}`).send(update('CANCELLED'));
    expect(cancelled.body.phase).toBe('CANCELLED');
    expect((await queues.for(platform).getJob(stepJobId(b!.uuid)))?.data.uuid).toBe(b!.uuid);
    // CANCELLED is terminal.
    expect((await request(app).post(`/executions/${b!.uuid}`).send(update('CANCELLED'))).status).toBe(409);
  });

  test('updates the broker cannot apply are 422, malformed ones 400; nothing changes', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const uuid = set.offers[0]!.uuid;
    const cases: [unknown, number][] = [
      [update('COMPLETED'), 422],
      [{ kind: 'uri:enum-value-update', path: 'name', value: 'x' }, 422],
      [{ kind: 'uri:integer-delta-update', path: 'phase', delta: 1 }, 422],
      [{ kind: 'uri:enum-value-update', path: 'phase' }, 400],
      [{ kind: 'uri:no-such-update', path: 'phase', value: 'ACCEPTED' }, 400],
      [[], 400],
    ];
    for (const [body, status] of cases) {
      const res = await request(app).post(`/executions/${uuid}`).send(body as object);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await findExecutionRow(db.db, uuid))?.phase).toBe('OFFERED');
    // Cancelling an offer ends it and gives back its hold; after that, nothing more can change.
    const cancelOffer = await request(app).post(`/executions/${uuid}`).send(update('CANCELLED'));
    expect(cancelOffer.status).toBe(200);
    expect(cancelOffer.body.phase).toBe('CANCELLED');
    expect((await bookingOf(uuid)).released_at).not.toBeNull();
    const late = await request(app).post(`/executions/${uuid}`).send(update('ACCEPTED'));
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/reachable only from OFFERED/);
  });

  test('an offer not accepted before it expires becomes EXPIRED, and accepting it is refused', async () => {
    const set = await storeOfferSet(db.db, platform, [{}, {}], 300);
    const [a, b] = set.offers;
    await new Promise((r) => setTimeout(r, 400));
    const got = await request(app).get(`/executions/${a!.uuid}`);
    expect(got.body.phase).toBe('EXPIRED');
    expect(got.body.expires).toBeUndefined();
    const accept = await request(app).post(`/executions/${b!.uuid}`).send(update('ACCEPTED'));
    expect(accept.status).toBe(409);
    expect(accept.body.detail).toMatch(/expired/);
    expect((await findExecutionRow(db.db, b!.uuid))?.phase).toBe('EXPIRED');
    expect((await bookingOf(b!.uuid)).released_at).not.toBeNull();
  });
});

describe('long-poll', () => {
  test('Prefer: wait=N returns as soon as the phase changes, with Preference-Applied', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const uuid = set.offers[0]!.uuid;
    const started = Date.now();
    setTimeout(() => void transitionExecution(db.db, uuid, 'OFFERED', 'REJECTED'), 300);
    const res = await request(app).get(`/executions/${uuid}`).set('Prefer', 'wait=10');
    const took = Date.now() - started;
    expect(res.body.phase).toBe('REJECTED');
    expect(res.headers['preference-applied']).toBe('wait=10');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
  });

  test('wait is capped at 60 seconds and ends at once for a terminal phase', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const uuid = set.offers[0]!.uuid;
    await transitionExecution(db.db, uuid, 'OFFERED', 'REJECTED');
    const res = await request(app).get(`/executions/${uuid}`).set('Prefer', 'wait=600');
    expect(res.headers['preference-applied']).toBe('wait=60');
    expect(res.body.phase).toBe('REJECTED');
  });

  test('If-None-Match: an ETag the execution has moved past is answered at once', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const uuid = set.offers[0]!.uuid;
    const first = await request(app).get(`/executions/${uuid}`);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"OFFERED-\d+"$/);
    await transitionExecution(db.db, uuid, 'OFFERED', 'REJECTED');
    const started = Date.now();
    const res = await request(app).get(`/executions/${uuid}`).set('Prefer', 'wait=10').set('If-None-Match', etag);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.body.phase).toBe('REJECTED');
    expect(res.headers.etag).not.toBe(etag);
  });

  test('with no change it answers after N seconds with the same phase', async () => {
    const set = await storeOfferSet(db.db, platform, [{}]);
    const res = await request(app).get(`/executions/${set.offers[0]!.uuid}`).set('Prefer', 'wait=1');
    expect(res.body.phase).toBe('OFFERED');
    await sql`select 1`.execute(db.db);
  });
});
