import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { readRequest } from '@eb/tests/support/env.js';
import { startDockerLikeApp, type DockerLikeApp } from './docker-like-app.js';

// What a hostile user puts in a request first: each is a NO at once, naming the field, before any planning.
let t: DockerLikeApp;
let app: Express;

beforeAll(async () => {
  t = await startDockerLikeApp({ cores: 8, memoryGib: 16 }, undefined, { maxOffers: 3 });
  app = t.app;
});

afterAll(() => t.close());

type Req = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function offers(change: (r: Req) => void) {
  const req = await readRequest('execution-request-http-data-volume.json');
  change(req);
  const res = await request(app).post('/offersets').set('Prefer', 'return=representation').send(req);
  expect(res.status).toBe(200);
  const body = res.body as { result: string; offers: unknown[]; meta: { messages?: { kind: string; values: Record<string, string>; message: string }[] } };
  return { ...body, messages: body.meta.messages ?? [] };
}

describe('refused up front with result NO', () => {
  test('privileged: urn:not-supported', async () => {
    const set = await offers((r) => { r.executable.privileged = true; });
    expect(set.result).toBe('NO');
    expect(set.offers).toEqual([]);
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:not-supported', values: expect.objectContaining({ path: 'executable.privileged' }) }));
  });

  test.each([
    ['/', 'reserved'], ['/etc', 'reserved'], ['/proc/self', 'under /proc'], ['input', 'absolute'], ['/input/../etc', 'normalised'],
    ['/data:/etc:rw', '":"'], ['/sys/kernel', 'under /sys'], ['/dev/shm', 'under /dev'],
  ])('mount path %j', async (path, reason) => {
    const set = await offers((r) => { r.compute.volumes[0].path = path; });
    expect(set.result).toBe('NO');
    const m = set.messages.find((x) => x.values?.path === 'compute.volumes[0].path')!;
    expect(m.kind).toBe('urn:invalid-value');
    expect(m.message).toContain(reason);
  });

  test.each([
    'file:///etc/shadow', 'http://127.0.0.1:6379/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:5432/',
    'http://10.0.0.1/x', 'gopher://example.org/', 'http://localhost:8081/offersets', 'data:text/plain,hi',
  ])('data location %j', async (location) => {
    const set = await offers((r) => { r.data[0].location = location; });
    expect(set.result).toBe('NO');
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:invalid-value', message: expect.stringContaining('egress policy') }));
  });

  test.each([
    [{ protocol: 'SCTP', internal: { port: 80 } }, 'protocol'],
    [{ protocol: 'HTTP', internal: { port: -1 } }, 'internal.port'],
    [{ protocol: 'TCP', internal: { port: 70000 } }, 'internal.port'],
    [{ protocol: 'TCP', internal: { port: 8080 }, external: { port: 0 } }, 'external.port'],
  ])('port %j', async (port, field) => {
    const set = await offers((r) => { r.executable.network = { ports: [port] }; });
    expect(set.result).toBe('NO');
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:invalid-value', values: expect.objectContaining({ path: `executable.network.ports[0].${field}` }) }));
  });

  test.each([
    [(r: Req) => { r.executable.image.digest = 'sha256:abc'; }, 'executable.image.digest'],
    [(r: Req) => { r.executable.image.locations = ['busybox; rm -rf /']; }, 'executable.image.locations[0]'],
    [(r: Req) => { r.executable.environment = { 'LD_PRELOAD=/x.so X': '1' }; }, 'executable.environment.LD_PRELOAD=/x.so X'],
    [(r: Req) => { r.executable.command = Array(2000).fill('x'); }, 'executable.command'],
  ])('executable field %#', async (change, path) => {
    const set = await offers(change);
    expect(set.result).toBe('NO');
    expect(set.messages).toContainEqual(expect.objectContaining({ kind: 'urn:invalid-value', values: expect.objectContaining({ path }) }));
  });

  test('a request without such values still gets offers', async () => {
    const set = await offers((r) => { r.data[0].location = 'https://data.example.org/input.dat'; });
    expect(set.result).toBe('YES');
  });
});
