import { Kinds, message, type DataResource, type MessageItem } from '@eb/schema';
import { didNameProblem, safeFileName, scopeProblem } from '@eb/core';
import { fetchJson } from '../fetch.js';
import { shownUrl } from '../names.js';
import { usableReplicas } from '../replicas.js';
import { PlanRefused, type Checksum, type DataKind, type FetchPlan, type PlanContext } from '../plan.js';
import type { SkaoSource } from '../sources.js';

interface SkaoBlock {
  namespace?: string;
  objectname?: string;
  datasize?: number;
  checksum?: Checksum;
  replicas?: { rsename?: string; dataurl?: string }[];
}

/** One entry of GET /data/locate/{namespace}/{name}: a storage element, its replicas and its storage area. */
interface Located {
  identifier?: string;
  replicas?: string[];
  associated_storage_area_id?: string;
}

const trim = (u: string) => u.replace(/\/+$/, '');
const STORAGE_AREA = /^[A-Za-z0-9_-]{1,64}$/;

async function dmToken(source: SkaoSource, ctx: PlanContext): Promise<string> {
  if (source.auth === 'owner') {
    const token = await ctx.ownerToken();
    if (!token) throw new PlanRefused(`the SRCNet source ${source.name} acts as the owner, and the broker keeps no token of theirs`);
    return token;
  }
  return source.auth.token;
}

/**
 * SkaoDataResource: a namespace and name in the SRCNet data lake. The worker asks the configured
 * data-management API where the replicas are (data/locate, nearest first), and for each storage
 * area in that order a storage token (data/download) to fetch its replica with; replicas the egress
 * policy refuses are skipped. The size and checksum the request gives are what the file must be.
 */
export const skaoKind: DataKind = {
  kind: Kinds.skaoData,
  available: (sources) => sources.skao.length > 0,
  async plan(raw: DataResource, ctx: PlanContext): Promise<FetchPlan> {
    const block = ((raw as { skao?: SkaoBlock }).skao ?? {}) as SkaoBlock;
    const problem = scopeProblem(block.namespace) ?? didNameProblem(block.objectname);
    if (problem) throw new PlanRefused(problem);
    const source = ctx.sources.skao[0];
    if (!source) throw new PlanRefused('no SRCNet data-management API is configured');
    const [namespace, name] = [block.namespace!, block.objectname!];
    const path = `${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
    const opts = { policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}), headers: { Authorization: `Bearer ${await dmToken(source, ctx)}` } };
    const { body: located } = await fetchJson<Located[]>(`${trim(source.endpoint)}/data/locate/${path}?sort=${source.sort ?? 'nearest_by_ip'}`, opts);
    if (!Array.isArray(located) || !located.length) throw new PlanRefused(`the data lake has no replica of ${namespace}:${name}`);
    // The request may prefer storage elements (its replicas' rsename): those first, the API's order otherwise.
    const preferred = (block.replicas ?? []).map((r) => r.rsename).filter((r): r is string => typeof r === 'string');
    const rank = (l: Located) => { const i = preferred.indexOf(l.identifier ?? ''); return i < 0 ? preferred.length : i; };
    const ordered = located.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i).map((x) => x.l);
    const messages: MessageItem[] = [];
    const candidates: { url: string; headers: Record<string, string>; site: string }[] = [];
    for (const l of ordered) {
      const area = l.associated_storage_area_id;
      if (!area || !STORAGE_AREA.test(area)) continue;
      const { usable, messages: refused } = usableReplicas((l.replicas ?? []).map((url, n) => ({ url, site: l.identifier ?? 'unknown', priority: n })), ctx.policy, ['https', 'davs', 'http']);
      messages.push(...refused);
      if (!usable.length) continue;
      const { body } = await fetchJson<{ access_token?: string }>(`${trim(source.endpoint)}/data/download/${encodeURIComponent(area)}/${path}`, opts);
      if (typeof body?.access_token !== 'string' || !body.access_token) throw new Error('the data-management API sent no storage token');
      for (const r of usable) candidates.push({ url: r.url, headers: { Authorization: `Bearer ${body.access_token}` }, site: r.site });
    }
    const [best, ...rest] = candidates;
    if (!best) throw new PlanRefused(`no replica of ${namespace}:${name} can be fetched under the broker's egress policy`, messages);
    messages.push(message('urn:data-located', 'INFO', 'SRCNet replica of {did} at {site}: {url}', { did: `${namespace}:${name}`, site: best.site, url: shownUrl(best.url) }));
    return {
      source: source.name,
      items: [{
        url: best.url, shownUrl: shownUrl(best.url), headers: best.headers, file: safeFileName(name.split('/').pop(), 'data'),
        ...(rest.length ? { alternatives: rest.map(({ url, headers }) => ({ url, headers })) } : {}),
        ...(typeof block.datasize === 'number' ? { size: block.datasize } : {}),
        checksums: block.checksum ? [block.checksum] : [],
      }],
      messages,
    };
  },
};
