import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Kinds, message, type DataResource } from '@eb/schema';
import { bucketProblem, matchS3Source, objectKeyProblem } from '@eb/core';
import { pinnedHandler } from '../pinned-agent.js';
import { fileNameFor, shownUrl } from '../names.js';
import { HttpStatusError } from '../fetch.js';
import { PlanRefused, type Checksum, type DataKind, type FetchPlan, type PlanContext } from '../plan.js';
import type { S3Source } from '../sources.js';

interface S3Spec extends DataResource {
  endpoint?: string;
  template?: string;
  bucket?: string;
  object?: string;
  checksum?: Checksum;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

// How long a presigned URL stays valid: enough for a slow transfer, short enough to be of little use later.
const PRESIGN_SECONDS = 3600;

/** Temporary credentials for the owner: their kept token exchanged at the configured STS. */
async function webIdentityCredentials(source: S3Source, ctx: PlanContext): Promise<Credentials> {
  const w = source.webIdentity!;
  const token = await ctx.ownerToken();
  if (!token) throw new PlanRefused(`the S3 source ${source.name} acts as the owner, and the broker keeps no token of theirs`);
  const sts = new STSClient({
    endpoint: w.stsEndpoint, region: source.region ?? 'us-east-1',
    requestHandler: await pinnedHandler(ctx.policy, w.stsEndpoint, ctx.signal),
    // AssumeRoleWithWebIdentity is not signed: the web identity token is the credential.
    credentials: { accessKeyId: 'anonymous', secretAccessKey: 'anonymous' },
  });
  const out = await sts.send(new AssumeRoleWithWebIdentityCommand({
    RoleArn: w.roleArn, RoleSessionName: `eb-${ctx.component.uuid.slice(0, 8)}`, WebIdentityToken: token, DurationSeconds: w.durationSeconds ?? 3600,
  }), { ...(ctx.signal ? { abortSignal: ctx.signal } : {}) }).catch(rethrow('STS'));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('the STS answered without credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
}

async function credentialsFor(source: S3Source, ctx: PlanContext): Promise<Credentials | undefined> {
  if (source.webIdentity) return webIdentityCredentials(source, ctx);
  return source.credentials;
}

/** SDK errors sorted as the stager sorts HTTP ones: 4xx final, 5xx asked again. */
const rethrow = (what: string) => (err: unknown): never => {
  if (err instanceof S3ServiceException || (err as { $metadata?: unknown }).$metadata) {
    const status = (err as S3ServiceException).$metadata?.httpStatusCode ?? 500;
    throw new HttpStatusError(status, `${what} answered ${status} (${(err as Error).name})`);
  }
  throw err;
};

/** The object's ETag is its MD5 when it was not uploaded in parts (nor encrypted with KMS). */
function etagMd5(etag: string | undefined): Checksum[] {
  const v = etag?.replace(/"/g, '');
  return v && /^[0-9a-f]{32}$/i.test(v) ? [{ type: 'md5', value: v }] : [];
}

/**
 * S3DataResource: an object of a configured S3 endpoint (the request names the endpoint, or one of its
 * URL templates, and gives bucket and object). The worker asks the object's size and ETag with the
 * configured (or the owner's STS) credentials, then hands the stager a presigned URL: the same plan
 * serves the Docker stager and a Kubernetes Job, and no credential leaves the worker.
 */
export const s3Kind: DataKind = {
  kind: Kinds.s3Data,
  available: (sources) => sources.s3.length > 0,
  async plan(raw: DataResource, ctx: PlanContext): Promise<FetchPlan> {
    const spec = raw as S3Spec;
    const source = matchS3Source(spec, ctx.sources.s3);
    if (!source) throw new PlanRefused('no S3 endpoint this broker is configured for matches the data resource');
    const problem = bucketProblem(spec.bucket) ?? objectKeyProblem(spec.object);
    if (problem) throw new PlanRefused(problem);
    const [Bucket, Key] = [spec.bucket!, spec.object!];
    const credentials = await credentialsFor(source, ctx);
    const client = new S3Client({
      endpoint: source.endpoint, region: source.region ?? 'us-east-1', forcePathStyle: source.forcePathStyle ?? true,
      requestHandler: await pinnedHandler(ctx.policy, source.endpoint, ctx.signal),
      ...(credentials ? { credentials } : { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (r) => r } }),
      maxAttempts: 1,
    });
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket, Key }), { ...(ctx.signal ? { abortSignal: ctx.signal } : {}) }).catch(rethrow(`S3 HeadObject on ${source.name}`));
      const url = credentials
        ? await getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn: PRESIGN_SECONDS })
        // A public bucket: the object's plain path-style URL.
        : `${source.endpoint.replace(/\/+$/, '')}/${Bucket}/${Key.split('/').map(encodeURIComponent).join('/')}`;
      const size = head.ContentLength;
      return {
        source: source.name,
        items: [{
          url, shownUrl: shownUrl(url), file: fileNameFor(`http://x/${Key.split('/').map(encodeURIComponent).join('/')}`, ctx.component.name ?? 'data'),
          ...(size !== undefined ? { size } : {}),
          checksums: [...(spec.checksum ? [spec.checksum] : []), ...etagMd5(head.ETag)],
        }],
        messages: [message('urn:data-located', 'INFO', 'S3 object {bucket}/{object} on {source}: {size} bytes', { bucket: Bucket, object: Key, source: source.name, size: size ?? 'unknown' })],
      };
    } finally {
      client.destroy();
    }
  },
};
