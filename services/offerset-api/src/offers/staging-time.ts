import { Kinds, type DataResource } from '@eb/schema';
import { matchS3Source, matchServiceSource } from '@eb/core';
import { transferHistory, type DataSourceInfo, type Db, type TransferRecord } from '@eb/db';

/** What the estimate assumes where neither the configuration nor the history says. */
export interface StagingDefaults {
  bytesPerSecond: number;
  setupMs: number;
}

/** 20 MiB/s and 2 s to the first byte (EB_TRANSFER_RATE_MIBPS, EB_TRANSFER_SETUP). */
export const DEFAULT_STAGING: StagingDefaults = { bytesPerSecond: 20 * 2 ** 20, setupMs: 2000 };

/** A data item as far as the offer can tell: the source it will come from, and its size when declared. */
interface Expected {
  source: string;
  bytes?: number;
}

function hostSource(url: unknown, sources: readonly DataSourceInfo[]): string | undefined {
  if (typeof url !== 'string') return undefined;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const named = sources.find((s) => (s.kind === 'http' || s.kind === 'ivoa') && s.hosts?.some((h) => h.toLowerCase() === host));
  return named ? named.name : `http:${host}`;
}

const size = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** The source and declared size of a data item, named as the worker names them in the history. */
function expected(d: DataResource, sources: readonly DataSourceInfo[]): Expected | undefined {
  const r = d as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const of = (kind: DataSourceInfo['kind']) => sources.filter((s) => s.kind === kind);
  switch (d.kind) {
    case Kinds.simpleData: {
      const source = hostSource(d.location, sources);
      return source ? { source } : undefined;
    }
    case Kinds.s3Data: {
      const s = matchS3Source(r, of('s3'));
      return s && { source: s.name };
    }
    case Kinds.rucioData: {
      const s = matchServiceSource(r.rucio?.endpoint, of('rucio'));
      return s && { source: s.name };
    }
    case Kinds.skaoData: {
      const s = of('skao')[0];
      const bytes = size(r.skao?.datasize);
      return s && { source: s.name, ...(bytes !== undefined ? { bytes } : {}) };
    }
    case Kinds.ivoaData: {
      const link = r.ivoa?.datalink;
      const bytes = size(link?.content_length);
      const source = link?.access_url ? hostSource(link.access_url, sources)
        : r.ivoa?.obscore?.access_url ? hostSource(r.ivoa.obscore.access_url, sources)
          : of('ivoa').find((s) => s.endpoint)?.name;
      return source ? { source, ...(bytes !== undefined ? { bytes } : {}) } : undefined;
    }
    default:
      return undefined;
  }
}

/** How long one item is expected to take: from its size at the learned (else configured, else default) rate, or as long as its source usually takes. */
function itemMs(e: Expected, info: DataSourceInfo | undefined, history: TransferRecord | undefined, d: StagingDefaults): number {
  const setup = info?.setupMs ?? d.setupMs;
  if (e.bytes !== undefined) {
    const rate = history && Number.isFinite(history.bytesPerSecond) && history.bytesPerSecond > 0 ? history.bytesPerSecond : info?.bytesPerSecond ?? d.bytesPerSecond;
    return setup + (e.bytes * 1000) / rate;
  }
  return history ? history.medianMs : info?.setupMs ?? 0;
}

/**
 * The time staging the request's data is expected to take, added to the platform's preparation
 * estimate: each data source's configured rate until downloads from it have been recorded, then the
 * rate and durations its recent downloads show. Items are staged one after another.
 */
export async function stagingMs(db: Db, data: readonly DataResource[], sources: readonly DataSourceInfo[], d: StagingDefaults): Promise<number> {
  const items = data.map((x) => expected(x, sources)).filter((x): x is Expected => !!x);
  if (!items.length) return 0;
  const history = await transferHistory(db, [...new Set(items.map((i) => i.source))]);
  const total = items.reduce((sum, e) => sum + itemMs(e, sources.find((s) => s.name === e.source), history.get(e.source), d), 0);
  return Math.ceil(total / 1000) * 1000;
}
