import { Kinds, message, type MessageItem } from '@eb/schema';
import { bucketProblem, didNameProblem, matchS3Source, matchServiceSource, objectKeyProblem, scopeProblem } from '@eb/core';
import type { EgressPolicy } from '@eb/core';
import type { DataSourceInfo } from '@eb/db';
import type { RequestTree } from './request-tree.js';

/**
 * Checks on data that lives in a data service (S3, Rucio, SRCNet, IVOA). The service itself comes
 * from the broker's configuration (the platform's declared sources), never from the request: a
 * request may only name a configured one. What the request adds (bucket, key, DID) is data, checked
 * against the service's naming rules here and again by the worker.
 */

const invalid = (path: string, value: unknown, reason: string) =>
  message('urn:invalid-value', 'ERROR', 'Invalid value [{value}] for [{path}]: {reason}', { path, value: String(value).slice(0, 200), reason });

const names = (list: readonly DataSourceInfo[]) => list.map((s) => s.endpoint ?? s.name).join(', ') || 'none';

function checkS3(d: Record<string, unknown>, at: string, sources: readonly DataSourceInfo[], out: MessageItem[]): void {
  const s3 = sources.filter((s) => s.kind === 's3');
  if (!matchS3Source(d, s3)) {
    const field = typeof d.endpoint === 'string' ? 'endpoint' : typeof d.template === 'string' ? 'template' : 'endpoint';
    out.push(invalid(`${at}.${field}`, d[field] ?? '', `not an S3 endpoint this broker is configured for (configured: ${names(s3)})`));
  }
  const bucket = bucketProblem(d.bucket);
  if (bucket) out.push(invalid(`${at}.bucket`, d.bucket ?? '', bucket));
  const key = objectKeyProblem(d.object);
  if (key) out.push(invalid(`${at}.object`, d.object ?? '', key));
}

function checkRucio(d: Record<string, unknown>, at: string, sources: readonly DataSourceInfo[], out: MessageItem[]): void {
  const block = (d.rucio ?? {}) as Record<string, unknown>;
  const rucio = sources.filter((s) => s.kind === 'rucio');
  if (!matchServiceSource(block.endpoint, rucio)) {
    out.push(invalid(`${at}.rucio.endpoint`, block.endpoint ?? '', `not a Rucio server this broker is configured for (configured: ${names(rucio)})`));
  }
  const scope = scopeProblem(block.scope);
  if (scope) out.push(invalid(`${at}.rucio.scope`, block.scope ?? '', scope));
  const name = didNameProblem(block.object);
  if (name) out.push(invalid(`${at}.rucio.object`, block.object ?? '', name));
}

export function checkDataSources(tree: RequestTree, _egress: EgressPolicy, sources: readonly DataSourceInfo[]): MessageItem[] {
  const out: MessageItem[] = [];
  tree.data.forEach((d, i) => {
    const at = `data[${i}]`;
    if (d.kind === Kinds.s3Data) checkS3(d as Record<string, unknown>, at, sources, out);
    if (d.kind === Kinds.rucioData) checkRucio(d as Record<string, unknown>, at, sources, out);
  });
  return out;
}
