import { Kinds, type DataResource } from '@eb/schema';
import { checkUrlStatically } from '@eb/core';
import { checksumType } from '../checksums.js';
import { fileNameFor, shownUrl } from '../names.js';
import { PlanRefused, type Checksum, type DataKind, type FetchPlan, type PlanContext } from '../plan.js';
import type { DataSources } from '../sources.js';

/** The source an HTTP(S) download counts under: a configured one listing its host, else the host itself. */
export function httpSourceOf(url: string, sources: DataSources): string {
  let host = '';
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'http:invalid';
  }
  const named = sources.http.find((s) => s.hosts.some((h) => h.toLowerCase() === host))
    ?? sources.ivoa.find((s) => s.hosts?.some((h) => h.toLowerCase() === host));
  return named ? named.name : `http:${host}`;
}

/** SimpleDataResource: one URL, fetched as it is (checksum from the component's `checksum`, when given). */
export const httpKind: DataKind = {
  kind: Kinds.simpleData,
  available: () => true,
  async plan(spec: DataResource, ctx: PlanContext): Promise<FetchPlan> {
    const url = spec.location;
    if (typeof url !== 'string') throw new PlanRefused('the data resource has no location');
    checkUrlStatically(ctx.policy, url);
    const checksum = (spec as { checksum?: Checksum }).checksum;
    if (checksum && !checksumType(checksum.type)) throw new PlanRefused(`unknown checksum type ${checksum.type}`);
    return {
      source: httpSourceOf(url, ctx.sources),
      items: [{ url, shownUrl: shownUrl(url), file: fileNameFor(url, ctx.component.name ?? 'data'), checksums: checksum ? [checksum] : [] }],
      messages: [],
    };
  },
};
