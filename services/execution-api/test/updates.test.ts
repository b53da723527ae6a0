import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { StepQueues, redisConnection } from '@eb/core';
import { BUCKET_MS, acceptExecution, findExecutionRow, releaseExecutionBookings, transitionExecution } from '@eb/db';
import type { AuthSettings } from '@eb/http-kit';
import { databaseUrl, quietLogger, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { storeOfferSet, type OfferSpec } from '@eb/tests/support/offers.js';
import { createApp } from '../src/app.js';
import { PhaseListener } from '../src/phases/listener.js';

// Options and integer updates of the available duration (extending a running execution).
const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
const listener = new PhaseListener(databaseUrl(), quietLogger);
const auth: AuthSettings = {
  staticTokens: new Map([['owner', { subject: 'owner' }], ['reader', { subject: 'colleague', groups: ['team'] }]]),
  adminRole: 'eb-admin', disabled: false,
};
let app: Express;
let platform: string;

beforeAll(async () => {
  await listener.start();
  platform = (await testPlatform(db.db, { cores: 8 })).name;
  app = createApp({ db: db.db, queues, listener, logger: quietLogger, auth });
});

afterAll(async () => {
  await listener.stop();
  await queues.for(platform).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
  await db.close();
});

const OWNER = { Authorization: 'Bearer owner' };
const MIN = 60_000;
const delta = (d: number, extra: Record<string, unknown> = {}) => ({ kind: 'uri:integer-delta-update', path: '/schedule/available/duration', delta: d, ...extra });

async function running(spec: OfferSpec, to: 'ACCEPTED' | 'AVAILABLE' = 'AVAILABLE'): Promise<string> {
  const set = await storeOfferSet(db.db, platform, [{ prepareMs: 1000, durationMs: 10 * MIN, releaseMs: 1000, ...spec }], 300_000, 'owner');
  const uuid = set.offers[0]!.uuid;
  await db.db.updateTable('executions').set({ readers: ['team'] }).where('uuid', '=', uuid).execute();
  expect((await acceptExecution(db.db, uuid)).outcome).toBe('accepted');
  if (to === 'AVAILABLE') {
    for (const [from, next] of [['ACCEPTED', 'WAITING'], ['WAITING', 'PREPARING'], ['PREPARING', 'AVAILABLE']] as const) await transitionExecution(db.db, uuid, from, next);
  }
  return uuid;
}
const bookingEnd = async (uuid: string) => {
  const b = await db.db.selectFrom('bookings').select((eb) => eb.fn<Date>('upper', ['during']).as('end')).where('execution_uuid', '=', uuid).executeTakeFirstOrThrow();
  return new Date(b.end).getTime();
};

describe('meta.options and duration updates', () => {
  test('options say what may change: phases on an offer; cancelling and a longer duration once accepted', async () => {
    const set = await storeOfferSet(db.db, platform, [{}], 300_000, 'owner');
    const offer = await request(app).get(`/sessions/${set.offers[0]!.uuid}`).set(OWNER);
    expect(offer.body.meta.options).toEqual([{ kind: 'uri:enum-value-option', path: 'phase', values: ['ACCEPTED', 'REJECTED', 'CANCELLED'] }]);
    await transitionExecution(db.db, set.offers[0]!.uuid, 'OFFERED', 'REJECTED');
    expect((await request(app).get(`/sessions/${set.offers[0]!.uuid}`).set(OWNER)).body.meta.options).toBeUndefined();
    const uuid = await running({});
    expect((await request(app).get(`/sessions/${uuid}`).set(OWNER)).body.meta.options).toEqual([
      { kind: 'uri:enum-value-option', path: 'phase', values: ['CANCELLED'] },
      { kind: 'uri:integer-delta-option', path: 'schedule.available.duration', min: 1, units: 'seconds' },
      { kind: 'uri:integer-value-option', path: 'schedule.available.duration', min: 601, units: 'seconds' },
    ]);
  });

  test('an integer delta extends an AVAILABLE execution: its schedule and its booking move together', async () => {
    const uuid = await running({});
    const before = (await findExecutionRow(db.db, uuid))!;
    const endBefore = await bookingEnd(uuid);
    const res = await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(5, { units: 'minutes' }));
    expect(res.status).toBe(200);
    expect(res.body.schedule.available.duration).toBe('PT15M');
    expect(res.body.phase).toBe('AVAILABLE');
    const after = (await findExecutionRow(db.db, uuid))!;
    expect(after.release_start.getTime() - before.release_start.getTime()).toBe(5 * MIN);
    expect(await bookingEnd(uuid) - endBefore).toBe(5 * MIN);
    expect(after.messages.at(-1)).toMatchObject({ kind: 'urn:schedule-change' });
    // A value update, in seconds by default, through the dotted path form.
    const set = await request(app).post(`/executions/${uuid}`).set(OWNER).send({ kind: 'uri:integer-value-update', path: 'schedule.available.duration', value: 1200 });
    expect(set.body.schedule.available.duration).toBe('PT20M');
  });

  test('extending into capacity that is booked by someone else is a 409 naming what is short; nothing changes', async () => {
    const uuid = await running({ cores: 6 });
    const row = (await findExecutionRow(db.db, uuid))!;
    // Another accepted execution takes 4 of the 8 cores from soon after this one ends (the first
    // capacity bucket after its end: capacity is counted in buckets of BUCKET_MS).
    const end = row.release_start.getTime() + row.release_ms;
    const nextBucket = Math.ceil(end / BUCKET_MS) * BUCKET_MS;
    const later = await storeOfferSet(db.db, platform, [{ startInMs: nextBucket - Date.now(), prepareMs: 0, cores: 4, durationMs: 10 * MIN }], 300_000, 'someone');
    expect((await acceptExecution(db.db, later.offers[0]!.uuid)).outcome).toBe('accepted');
    const res = await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(300));
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toMatch(/Not enough free \[cores\]/);
    expect((await findExecutionRow(db.db, uuid))!.available_ms).toBe(row.available_ms);
    expect(await bookingEnd(uuid)).toBe(end);
    // Give the platform's cores back for the tests that follow.
    await transitionExecution(db.db, uuid, 'AVAILABLE', 'CANCELLED');
    await transitionExecution(db.db, later.offers[0]!.uuid, 'ACCEPTED', 'CANCELLED');
    for (const u of [uuid, later.offers[0]!.uuid]) await releaseExecutionBookings(db.db, u);
  });

  test('what cannot be applied: a shorter duration, unknown units (422); a phase without a live booking (409); someone else (403)', async () => {
    const uuid = await running({});
    expect((await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(-60))).status).toBe(422);
    expect((await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(1, { units: 'fortnights' }))).status).toBe(422);
    expect((await request(app).post(`/sessions/${uuid}`).set(OWNER).send({ kind: 'uri:enum-value-update', path: 'schedule.available.duration', value: 'PT2H' })).status).toBe(422);
    const reader = await request(app).post(`/sessions/${uuid}`).set({ Authorization: 'Bearer reader' }).send(delta(60));
    expect(reader.status).toBe(403);
    await transitionExecution(db.db, uuid, 'AVAILABLE', 'RELEASING');
    const late = await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(60));
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/phase RELEASING/);
    const offer = await storeOfferSet(db.db, platform, [{}], 300_000, 'owner');
    expect((await request(app).post(`/sessions/${offer.offers[0]!.uuid}`).set(OWNER).send(delta(60))).status).toBe(409);
  });

  test('the max-duration policy bounds extensions, and the options say so', async () => {
    process.env.EB_POLICY_MAX_DURATION = 'PT15M';
    try {
      const uuid = await running({});
      const options = (await request(app).get(`/sessions/${uuid}`).set(OWNER)).body.meta.options;
      expect(options[1]).toMatchObject({ kind: 'uri:integer-delta-option', max: 300 });
      const res = await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(301));
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/max-duration/);
      expect((await request(app).post(`/sessions/${uuid}`).set(OWNER).send(delta(300))).status).toBe(200);
    } finally {
      delete process.env.EB_POLICY_MAX_DURATION;
    }
  });
});
