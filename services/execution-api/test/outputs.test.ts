import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { Kinds } from '@eb/schema';
import { StepQueues, redisConnection } from '@eb/core';
import { acceptExecution, finishOutput, saveOutput, transitionExecution } from '@eb/db';
import type { AuthSettings } from '@eb/http-kit';
import { databaseUrl, quietLogger, redisUrl, testDatabase, testPlatform, uniquePrefix } from '@eb/tests/support/env.js';
import { storeOfferSet } from '@eb/tests/support/offers.js';
import { createApp } from '../src/app.js';
import { PhaseListener } from '../src/phases/listener.js';

// The stdout/stderr session connectors: what the workers stored, served to the owner and readers only.
const db = testDatabase();
const redis = redisConnection(redisUrl());
const queues = new StepQueues(redis, uniquePrefix());
const listener = new PhaseListener(databaseUrl(), quietLogger);
const auth: AuthSettings = {
  staticTokens: new Map([
    ['owner-token', { subject: 'owner' }],
    ['reader-token', { subject: 'colleague', groups: ['team'] }],
    ['stranger-token', { subject: 'stranger', groups: ['other'] }],
  ]),
  adminRole: 'eb-admin', disabled: false,
};
let app: Express;
let platform: string;

beforeAll(async () => {
  await listener.start();
  platform = (await testPlatform(db.db)).name;
  app = createApp({ db: db.db, queues, listener, logger: quietLogger, auth });
});

afterAll(async () => {
  await listener.stop();
  await queues.close();
  redis.disconnect();
  await db.close();
});

const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const printed = Buffer.concat([Buffer.from('line 1\n'), Buffer.from([0, 0xff, 0xfe]), Buffer.from('\nlast line\n')]);

async function available(outputs?: string[]): Promise<string> {
  const set = await storeOfferSet(db.db, platform, [{ ...(outputs ? { outputs } : {}) }], 300_000, 'owner');
  const uuid = set.offers[0]!.uuid;
  await db.db.updateTable('executions').set({ readers: ['team'] }).where('uuid', '=', uuid).execute();
  expect((await acceptExecution(db.db, uuid)).outcome).toBe('accepted');
  for (const [from, to] of [['ACCEPTED', 'WAITING'], ['WAITING', 'PREPARING'], ['PREPARING', 'AVAILABLE']] as const) {
    expect(await transitionExecution(db.db, uuid, from, to)).toBe(true);
  }
  return uuid;
}

const connectors = async (uuid: string) => (await request(app).get(`/sessions/${uuid}`).set(as('owner-token'))).body.connectors as { kind: string; status: string; protocol: string; location?: string }[];

describe('stdout and stderr connectors', () => {
  test('PREPARING without a location on an offer, AVAILABLE while it runs, FINISHED after, with upstream kinds and paths', async () => {
    const set = await storeOfferSet(db.db, platform, [{}], 300_000, 'owner');
    expect(await connectors(set.offers[0]!.uuid)).toEqual([
      { kind: Kinds.stdoutConnector, status: 'PREPARING', protocol: 'HTTP' },
      { kind: Kinds.stderrConnector, status: 'PREPARING', protocol: 'HTTP' },
    ]);
    const uuid = await available();
    const base = (await connectors(uuid)).map((c) => [c.status, c.location]);
    expect(base).toEqual([['AVAILABLE', expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/sessions/${uuid}/docker/stdout-get$`))], ['AVAILABLE', expect.stringMatching(/\/docker\/stderr-get$/)]]);
    await transitionExecution(db.db, uuid, 'AVAILABLE', 'RELEASING');
    await transitionExecution(db.db, uuid, 'RELEASING', 'COMPLETED');
    expect((await connectors(uuid)).map((c) => c.status)).toEqual(['FINISHED', 'FINISHED']);
  });

  test('served as text/plain, byte for byte, on /sessions and /executions, to the owner and readers; 404 for anyone else', async () => {
    const uuid = await available();
    await saveOutput(db.db, uuid, 'stdout', printed, 5000, false);
    for (const path of [`/sessions/${uuid}/docker/stdout-get`, `/executions/${uuid}/docker/stdout-get`]) {
      for (const token of ['owner-token', 'reader-token']) {
        const res = await request(app).get(path).set(as(token)).buffer(true).parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(Buffer.compare(res.body as Buffer, printed)).toBe(0);
        expect(res.headers['x-output-total-bytes']).toBe('5000');
        expect(res.headers['x-output-complete']).toBe('false');
      }
      const stranger = await request(app).get(path).set(as('stranger-token'));
      expect(stranger.status).toBe(404);
      expect(stranger.headers['content-type']).toMatch(/problem\+json/);
      expect((await request(app).get(path)).status).toBe(401);
    }
    // Nothing printed yet on stderr: an empty answer, not an error.
    const empty = await request(app).get(`/sessions/${uuid}/docker/stderr-get`).set(as('owner-token'));
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('');
    // Once complete, it says so.
    await finishOutput(db.db, uuid, 'stdout');
    expect((await request(app).get(`/sessions/${uuid}/docker/stdout-get`).set(as('owner-token'))).headers['x-output-complete']).toBe('true');
  });

  test('a stream the platform does not give back, an unknown execution or a bad uuid: 404', async () => {
    const uuid = await available(['stdout']);
    expect((await connectors(uuid)).map((c) => c.kind)).toEqual([Kinds.stdoutConnector]);
    expect((await request(app).get(`/sessions/${uuid}/docker/stderr-get`).set(as('owner-token'))).status).toBe(404);
    expect((await request(app).get('/sessions/00000000-0000-4000-8000-000000000000/docker/stdout-get').set(as('owner-token'))).status).toBe(404);
    expect((await request(app).get('/sessions/nope/docker/stdout-get').set(as('owner-token'))).status).toBe(404);
  });

  test('the executed notebook: its own connector kind and path, served whole as application/x-ipynb+json to the owner and readers', async () => {
    const uuid = await available(['stdout', 'stderr', 'notebook']);
    const nb = Buffer.from(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
    await saveOutput(db.db, uuid, 'notebook', nb, nb.length, true);
    expect((await connectors(uuid)).find((c) => c.kind === Kinds.notebookConnector)).toEqual({
      kind: Kinds.notebookConnector, status: 'AVAILABLE', protocol: 'HTTP', location: expect.stringMatching(new RegExp(`/sessions/${uuid}/jupyter/notebook-get$`)),
    });
    for (const token of ['owner-token', 'reader-token']) {
      const res = await request(app).get(`/executions/${uuid}/jupyter/notebook-get`).set(as(token));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-ipynb+json');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${uuid}.ipynb"`);
      expect(res.body).toEqual(JSON.parse(nb.toString()));
    }
    expect((await request(app).get(`/sessions/${uuid}/jupyter/notebook-get`).set(as('stranger-token'))).status).toBe(404);
    // An execution that is not a notebook has no such output.
    const plain = await available();
    expect((await request(app).get(`/sessions/${plain}/jupyter/notebook-get`).set(as('owner-token'))).status).toBe(404);
  });
});
