import { Kinds, message, type MessageItem } from '@eb/schema';
import { EgressRefused, bucketProblem, checkUrlStatically, didNameProblem, matchS3Source, matchServiceSource, objectKeyProblem, scopeProblem } from '@eb/core';
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

function checkUrl(egress: EgressPolicy, url: unknown, path: string, out: MessageItem[]): void {
  if (url === undefined) return;
  try {
    checkUrlStatically(egress, String(url));
  } catch (err) {
    if (!(err instanceof EgressRefused)) throw err;
    out.push(invalid(path, url, `refused by the broker's egress policy: ${err.message}`));
  }
}

function checkIvoa(d: Record<string, unknown>, at: string, egress: EgressPolicy, sources: readonly DataSourceInfo[], out: MessageItem[]): void {
  const block = (d.ivoa ?? {}) as { ivoid?: unknown; obscore?: { access_url?: unknown }; datalink?: { access_url?: unknown } };
  checkUrl(egress, block.obscore?.access_url, `${at}.ivoa.obscore.access_url`, out);
  checkUrl(egress, block.datalink?.access_url, `${at}.ivoa.datalink.access_url`, out);
  if (block.obscore?.access_url === undefined && block.datalink?.access_url === undefined) {
    if (typeof block.ivoid !== 'string') out.push(invalid(`${at}.ivoa`, '', 'needs a DataLink access_url, an ObsCore access_url or an ivoid'));
    else if (!sources.some((s) => s.kind === 'ivoa' && s.endpoint)) out.push(invalid(`${at}.ivoa.ivoid`, block.ivoid, 'no DataLink service is configured to resolve an IVOA identifier'));
  }
}

function checkSkao(d: Record<string, unknown>, at: string, out: MessageItem[]): void {
  const block = (d.skao ?? {}) as Record<string, unknown>;
  const namespace = scopeProblem(block.namespace);
  if (namespace) out.push(invalid(`${at}.skao.namespace`, block.namespace ?? '', namespace));
  const name = didNameProblem(block.objectname);
  if (name) out.push(invalid(`${at}.skao.objectname`, block.objectname ?? '', name));
  if (block.datasize !== undefined && !(Number.isSafeInteger(block.datasize) && (block.datasize as number) >= 0)) out.push(invalid(`${at}.skao.datasize`, block.datasize, 'a size is a whole number of bytes'));
}

export function checkDataSources(tree: RequestTree, egress: EgressPolicy, sources: readonly DataSourceInfo[]): MessageItem[] {
  const out: MessageItem[] = [];
  tree.data.forEach((d, i) => {
    const at = `data[${i}]`;
    if (d.kind === Kinds.s3Data) checkS3(d as Record<string, unknown>, at, sources, out);
    if (d.kind === Kinds.rucioData) checkRucio(d as Record<string, unknown>, at, sources, out);
    if (d.kind === Kinds.ivoaData) checkIvoa(d as Record<string, unknown>, at, egress, sources, out);
    if (d.kind === Kinds.skaoData) checkSkao(d as Record<string, unknown>, at, out);
  });
  return out;
}
