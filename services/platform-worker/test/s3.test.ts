import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Kinds } from '@eb/schema';
import { findCredential, transferHistory, type ExecutionRecord } from '@eb/db';
import { createSealer, egressPolicy } from '@eb/core';
import { credentialsKey } from '@eb/tests/support/auth.js';
import { freePort, testDatabase } from '@eb/tests/support/env.js';
import type { OfferSpec } from '@eb/tests/support/offers.js';
import { TEST_IMAGE, ensureTestImage } from '@eb/tests/support/docker-image.js';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '@eb/tests/support/s3-server.js';
import { messagesOf, startHarness, type Harness } from './harness.js';
import { DockerPlatform } from '../src/platforms/docker/index.js';
import { dockerSettings } from '../src/platforms/docker/config.js';
import { NO_STAGING } from '../src/staging/settings.js';
import { NO_SOURCES } from '../src/staging/sources.js';

// S3 data staged through @aws-sdk/client-s3 against a real S3 server (s3rver) on loopback, by the
// Docker platform, into storage a real container reads.
const db = testDatabase(2);
const sealer = createSealer(credentialsKey());
const dataDir = mkdtempSync(join(tmpdir(), 'eb-s3-test-'));
const cube = randomBytes(2 * 1024 * 1024 + 5);
const cubeMd5 = createHash('md5').update(cube).digest('hex');
let s3: TestS3;
let sts: Server;
let stsUrl = '';
let unreachable = 0;
const stsCalls: URLSearchParams[] = [];
let h: Harness;
let imageId = '';

// A stand-in for the STS AssumeRoleWithWebIdentity call (form POST, XML answer), as AWS and MinIO serve it.
function startSts(): Promise<Server> {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    stsCalls.push(form);
    res.setHeader('content-type', 'text/xml');
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('WebIdentityToken') !== 'owner-oidc-token') {
      res.statusCode = 400;
      res.end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>token not valid</Message></Error><RequestId>r</RequestId></ErrorResponse>');
      return;
    }
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>${S3RVER_CREDENTIALS.accessKeyId}</AccessKeyId><SecretAccessKey>${S3RVER_CREDENTIALS.secretAccessKey}</SecretAccessKey><SessionToken>session-for-owner</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<SubjectFromWebIdentityToken>owner</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/reader/eb</Arn><AssumedRoleId>AROA:eb</AssumedRoleId></AssumedRoleUser>
</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  imageId = ensureTestImage();
  s3 = await startS3(['survey']);
  await s3.put('survey', 'runs/2026/cube.fits', cube);
  sts = await startSts();
  stsUrl = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
  unreachable = await freePort();
  const sources = {
    ...NO_SOURCES,
    s3: [
      { name: 'survey-s3', endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, templates: [`${s3.endpoint}/{bucket}/{object}`] },
      { name: 'as-owner', endpoint: `http://localhost:${s3.port}`, webIdentity: { stsEndpoint: stsUrl, roleArn: 'arn:aws:iam::1:role/reader' } },
      // Configured by the operator, but outside what the egress policy allows: never contacted.
      { name: 'outside', endpoint: `http://127.0.0.1:${unreachable}`, credentials: S3RVER_CREDENTIALS },
    ],
  };
  // The policy allows the S3 server's and the STS's ports only (as an operator lists them in EB_EGRESS_ALLOW).
  const policy = egressPolicy(`127.0.0.1:${s3.port},localhost:${s3.port},${new URL(stsUrl).host}`);
  const docker = new DockerPlatform({ ...dockerSettings(), dataDir, pull: false, staging: { ...NO_STAGING, policy, sources, attempts: 2 } }, undefined, async (uuid) => {
    const c = await findCredential(db.db, uuid);
    return c ? sealer.open(c.accessToken) : undefined;
  });
  h = await startHarness(docker, { timing: { pollMinMs: 100, pollMaxMs: 400 } });
}, 60_000);

afterAll(async () => {
  await h.stop();
  await s3.close();
  await new Promise((r) => sts.close(r));
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const md5Job = (file: string) => ({ image: { locations: [TEST_IMAGE], digest: imageId }, command: ['md5sum', `/input/${file}`] });
const withS3 = (spec: Record<string, unknown>): OfferSpec['extra'] => [
  { role: 'storage', name: 'work', kind: Kinds.simpleStorage, spec: { size: { min: 1, max: 1 } } },
  { role: 'data', name: 'cube', kind: Kinds.s3Data, spec: { storage: 'work', ...spec } },
  { role: 'volume', name: 'in', kind: Kinds.simpleVolumeMount, spec: { path: '/input', mode: 'READONLY', resource: 'work' } },
];
const run = (spec: Record<string, unknown>, file = 'cube.fits', owner?: string) =>
  h.run({ executable: md5Job(file), extra: withS3(spec) }, owner ? { owner: { token: owner, sealer } } : {});
const dataText = (r: ExecutionRecord) => JSON.stringify(messagesOf(r, 'data'));
const log = (r: ExecutionRecord) => messagesOf(r, 'executable').find((m) => m.kind === 'urn:exit-code')?.values?.log ?? '';

describe('S3 data', () => {
  test('hostile: endpoints not configured or outside the policy, keys that climb, a wrong checksum: FAILED before any file lands', async () => {
    const calls = stsCalls.length;
    const [metadata, climbing, outside, wrong, noToken] = await Promise.all([
      run({ endpoint: 'http://169.254.169.254', bucket: 'survey', object: 'runs/2026/cube.fits' }),
      run({ endpoint: s3.endpoint, bucket: 'survey', object: '../../etc/passwd' }),
      run({ endpoint: 'outside', bucket: 'survey', object: 'runs/2026/cube.fits' }),
      run({ endpoint: s3.endpoint, bucket: 'survey', object: 'runs/2026/cube.fits', checksum: { type: 'md5', value: '0'.repeat(32) } }),
      run({ endpoint: `http://localhost:${s3.port}`, bucket: 'survey', object: 'runs/2026/cube.fits' }),
    ].map(async (p) => h.ended(await p)));
    for (const r of [metadata, climbing, outside, wrong, noToken]) {
      expect(r.execution.phase).toBe('FAILED');
      // The executable never started.
      expect(r.history.some((x) => x.component_uuid === r.components.find((c) => c.role === 'executable')!.uuid && x.phase === 'PREPARING')).toBe(false);
    }
    expect(dataText(metadata)).toContain('no S3 endpoint this broker is configured for');
    expect(dataText(climbing)).toContain('an object key does not begin with');
    expect(dataText(outside)).toContain('in a network the broker does not fetch from');
    expect(dataText(wrong)).toContain('does not match the expected 00000000000000000000000000000000');
    expect(dataText(noToken)).toContain('keeps no token of theirs');
    expect(stsCalls.length).toBe(calls);
  }, 90_000);

  test('bucket and object on a configured endpoint: size and ETag checked, staged into storage, read by the container', async () => {
    const r = await h.ended(await run({ endpoint: s3.endpoint, bucket: 'survey', object: 'runs/2026/cube.fits' }), 60_000);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(`${cubeMd5}  /input/cube.fits`);
    const data = messagesOf(r, 'data');
    expect(data).toContainEqual(expect.objectContaining({ kind: 'urn:data-located', values: expect.objectContaining({ source: 'survey-s3', size: String(cube.length) }) }));
    expect(data).toContainEqual(expect.objectContaining({ kind: 'urn:data-staged', values: expect.objectContaining({ bytes: String(cube.length) }) }));
    expect(data.filter((m) => m.kind === 'urn:data-progress').length).toBeGreaterThanOrEqual(3);
    // The presigned URL's signature is never shown.
    expect(JSON.stringify(data)).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
    // The download is in the source's history, which offers estimate staging time from.
    const history = (await transferHistory(db.db, ['survey-s3'])).get('survey-s3')!;
    expect(history.count).toBeGreaterThanOrEqual(1);
    expect(history.bytesPerSecond).toBeGreaterThan(0);
    const [row] = await db.db.selectFrom('transfer_history').select(['bytes', 'ms']).where('source', '=', 'survey-s3').orderBy('id', 'desc').limit(1).execute();
    expect(Number(row!.bytes)).toBe(cube.length);
  }, 60_000);

  test('the template form names the same source', async () => {
    const r = await h.ended(await run({ template: `${s3.endpoint}/{bucket}/{object}`, bucket: 'survey', object: 'runs/2026/cube.fits' }), 60_000);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(cubeMd5);
  }, 60_000);

  test('a source acting as the owner: their kept token exchanged at the STS for credentials', async () => {
    const before = stsCalls.length;
    const r = await h.ended(await run({ endpoint: `http://localhost:${s3.port}`, bucket: 'survey', object: 'runs/2026/cube.fits' }, 'cube.fits', 'owner-oidc-token'), 60_000);
    expect(r.execution.phase).toBe('COMPLETED');
    expect(log(r)).toContain(cubeMd5);
    const call = stsCalls[before]!;
    expect(call.get('Action')).toBe('AssumeRoleWithWebIdentity');
    expect(call.get('RoleArn')).toBe('arn:aws:iam::1:role/reader');
    expect(call.get('WebIdentityToken')).toBe('owner-oidc-token');
    // A token the STS refuses fails the execution with its answer.
    const refused = await h.ended(await run({ endpoint: `http://localhost:${s3.port}`, bucket: 'survey', object: 'runs/2026/cube.fits' }, 'cube.fits', 'stolen-token'), 60_000);
    expect(refused.execution.phase).toBe('FAILED');
    expect(dataText(refused)).toContain('STS answered 400');
  }, 90_000);
});
