import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { DataSourceInfo } from '@eb/db';

/**
 * The data services the operator configured the workers for. Endpoints and credentials come only from
 * here, never from a request: a request names a configured source (by its endpoint), and what it adds
 * (bucket, object key, DID) is data, checked. Read from EB_DATA_SOURCES (JSON) or EB_DATA_SOURCES_FILE
 * (JSON or YAML), which may hold secrets: the platform's row gets only the public parts.
 */
export interface Rate {
  /** Expected transfer rate, until the download history says otherwise. */
  bytesPerSecond?: number;
  /** Expected time before the first byte. */
  setupMs?: number;
}

export interface HttpSource extends Rate {
  name: string;
  /** Hosts counted as this source. */
  hosts: string[];
}

export interface S3Source extends Rate {
  name: string;
  endpoint: string;
  region?: string;
  /** Path-style addressing (https://endpoint/bucket/key); default true (what S3-compatible stores serve). */
  forcePathStyle?: boolean;
  /** URL templates a request may give instead of the endpoint, with {bucket} and {object}. */
  templates?: string[];
  /** Static credentials; without them and without webIdentity, requests are unsigned (public buckets). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Temporary credentials for the owner's kept token (STS AssumeRoleWithWebIdentity). */
  webIdentity?: { stsEndpoint: string; roleArn: string; durationSeconds?: number };
}

export interface RucioSource extends Rate {
  name: string;
  /** The Rucio server, e.g. https://rucio.example.org */
  endpoint: string;
  /** The authentication server (default: the endpoint). */
  authEndpoint?: string;
  account: string;
  /** userpass: GET /auth/userpass; token: a bearer token of the broker's; owner: the owner's kept token. */
  auth: { userpass: { username: string; password: string } } | { token: string } | 'owner';
  /** Replica URL schemes staged from, in order of preference (davs is fetched as https). */
  schemes?: string[];
  /** Ask for a replica at this RSE (a rule) and stage from it once it is there. */
  localRse?: string;
  ruleLifetimeSeconds?: number;
  /** Bearer token sent to the storage when downloading a replica: none, the Rucio token, or the owner's. */
  downloadAuth?: 'none' | 'rucio' | 'owner';
}

export interface SkaoSource extends Rate {
  name: string;
  /** The SRCNet data-management API, e.g. https://dm.srcnet.example.org/api/v1 */
  endpoint: string;
  /** The bearer token for the data-management API: the broker's own, or the owner's kept token. */
  auth: { token: string } | 'owner';
  /** `sort` for data/locate. */
  sort?: 'nearest_by_ip' | 'random';
}

export interface IvoaSource extends Rate {
  name: string;
  /** A DataLink {links} service, for data given only by its IVOA identifier. */
  datalink?: string;
  /** Hosts counted as this source. */
  hosts?: string[];
}

export interface DataSources {
  http: HttpSource[];
  s3: S3Source[];
  rucio: RucioSource[];
  skao: SkaoSource[];
  ivoa: IvoaSource[];
}

export const NO_SOURCES: DataSources = { http: [], s3: [], rucio: [], skao: [], ivoa: [] };

const list = <T>(v: unknown, what: string): T[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`EB_DATA_SOURCES: ${what} must be a list`);
  for (const s of v) {
    if (!s || typeof (s as { name?: unknown }).name !== 'string') throw new Error(`EB_DATA_SOURCES: every ${what} source needs a name`);
  }
  return v as T[];
};

export function parseDataSources(text: string): DataSources {
  const raw = (yaml.load(text, { schema: yaml.JSON_SCHEMA }) ?? {}) as Record<string, unknown>;
  const sources: DataSources = {
    http: list<HttpSource>(raw.http, 'http'),
    s3: list<S3Source>(raw.s3, 's3'),
    rucio: list<RucioSource>(raw.rucio, 'rucio'),
    skao: list<SkaoSource>(raw.skao, 'skao'),
    ivoa: list<IvoaSource>(raw.ivoa, 'ivoa'),
  };
  for (const s of [...sources.s3, ...sources.rucio, ...sources.skao]) {
    if (typeof s.endpoint !== 'string' || !/^https?:\/\//.test(s.endpoint)) throw new Error(`EB_DATA_SOURCES: ${s.name} needs an http(s) endpoint`);
  }
  return sources;
}

export function dataSourcesFromEnv(): DataSources {
  const file = process.env.EB_DATA_SOURCES_FILE;
  if (file) return parseDataSources(readFileSync(file, 'utf8'));
  const text = process.env.EB_DATA_SOURCES;
  return text ? parseDataSources(text) : NO_SOURCES;
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** What the offer-set API may know of the sources: names, endpoints, templates, rates; no credentials. */
export function publicSources(s: DataSources): DataSourceInfo[] {
  const rate = (r: Rate) => ({
    ...(r.bytesPerSecond !== undefined ? { bytesPerSecond: r.bytesPerSecond } : {}),
    ...(r.setupMs !== undefined ? { setupMs: r.setupMs } : {}),
  });
  return [
    ...s.http.map((x) => ({ kind: 'http' as const, name: x.name, hosts: x.hosts, ...rate(x) })),
    ...s.s3.map((x) => ({ kind: 's3' as const, name: x.name, endpoint: trim(x.endpoint), ...(x.templates ? { templates: x.templates } : {}), ...rate(x) })),
    ...s.rucio.map((x) => ({ kind: 'rucio' as const, name: x.name, endpoint: trim(x.endpoint), ...rate(x) })),
    ...s.skao.map((x) => ({ kind: 'skao' as const, name: x.name, endpoint: trim(x.endpoint), ...rate(x) })),
    ...s.ivoa.map((x) => ({ kind: 'ivoa' as const, name: x.name, ...(x.datalink ? { endpoint: trim(x.datalink) } : {}), ...(x.hosts ? { hosts: x.hosts } : {}), ...rate(x) })),
  ];
}
