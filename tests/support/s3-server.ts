import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  port: number;
  /** Puts an object (with s3rver's default credentials, unsigned payload being accepted as S3 does). */
  put(bucket: string, key: string, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

// s3rver's built-in account.
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * A real S3-compatible server (s3rver: the S3 REST API over a directory) on loopback, with buckets
 * made at start. Objects are put with plain PUTs, which s3rver accepts without a signature.
 */
export async function startS3(buckets: string[]): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'eb-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, resetOnClose: true, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint, port,
    put: (bucket, key, body) => new Promise((resolve, reject) => {
      const req = request(`${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, {
        method: 'PUT', headers: { 'content-length': body.length, 'content-md5': createHash('md5').update(body).digest('base64') },
      }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve(); else reject(new Error(`PUT ${key}: ${res.statusCode}`));
      });
      req.once('error', reject);
      req.end(body);
    }),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
