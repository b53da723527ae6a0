import { Kinds, message, type DataResource, type MessageItem } from '@eb/schema';
import { didNameProblem, matchServiceSource, safeFileName, scopeProblem } from '@eb/core';
import { fetchJson, readText, safeRequest } from '../fetch.js';
import { shownUrl, uniqueNames } from '../names.js';
import { usableReplicas, type ReplicaUrl } from '../replicas.js';
import { PlanRefused, type Checksum, type DataKind, type FetchItem, type FetchPlan, type PlanContext } from '../plan.js';
import type { RucioSource } from '../sources.js';

interface RucioSpec extends DataResource {
  rucio?: { endpoint?: string; scope?: string; object?: string; type?: string };
}

/** One line of GET /replicas/{scope}/{name} (application/x-json-stream). */
interface ReplicaLine {
  scope: string;
  name: string;
  bytes?: number;
  md5?: string | null;
  adler32?: string | null;
  pfns?: Record<string, { rse?: string; priority?: number; domain?: string; type?: string }>;
}

const MAX_FILES = 1000;
const RULE_POLL_MS = [250, 500, 1000, 2000, 5000];

const trim = (u: string) => u.replace(/\/+$/, '');
const did = (scope: string, name: string) => `${encodeURIComponent(scope)}/${encodeURIComponent(name)}`;

/** The token every call carries (X-Rucio-Auth-Token): from /auth/userpass, configured, or the owner's. */
async function rucioToken(source: RucioSource, ctx: PlanContext): Promise<string> {
  if (source.auth === 'owner') {
    const token = await ctx.ownerToken();
    if (!token) throw new PlanRefused(`the Rucio source ${source.name} acts as the owner, and the broker keeps no token of theirs`);
    return token;
  }
  if ('token' in source.auth) return source.auth.token;
  const { res } = await safeRequest(`${trim(source.authEndpoint ?? source.endpoint)}/auth/userpass`, {
    policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}),
    headers: { 'X-Rucio-Account': source.account, 'X-Rucio-Username': source.auth.userpass.username, 'X-Rucio-Password': source.auth.userpass.password },
  });
  res.resume();
  const token = res.headers['x-rucio-auth-token'];
  if (typeof token !== 'string' || !token) throw new Error('Rucio authenticated without sending X-Rucio-Auth-Token');
  return token;
}

async function listReplicas(source: RucioSource, ctx: PlanContext, token: string, scope: string, name: string, rse?: string): Promise<ReplicaLine[]> {
  const query = new URLSearchParams({ schemes: (source.schemes ?? ['https', 'davs']).join(','), select: 'geoip' });
  if (rse) query.set('rse_expression', rse);
  const { res } = await safeRequest(`${trim(source.endpoint)}/replicas/${did(scope, name)}?${query}`, {
    policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}),
    headers: { 'X-Rucio-Auth-Token': token, Accept: 'application/x-json-stream' },
  });
  const lines = (await readText(res, 16 * 2 ** 20)).split('\n').filter((l) => l.trim());
  if (lines.length > MAX_FILES) throw new PlanRefused(`${scope}:${name} has more than ${MAX_FILES} files`);
  return lines.map((l) => {
    try {
      return JSON.parse(l) as ReplicaLine;
    } catch {
      throw new Error('Rucio answered a replica list that is not JSON lines');
    }
  });
}

/** Asks for a replica at the local RSE and waits (under the step's signal) until the rule is OK. */
async function ruleToLocal(source: RucioSource, ctx: PlanContext, token: string, scope: string, name: string): Promise<MessageItem[]> {
  const base = trim(source.endpoint);
  const opts = { policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}), headers: { 'X-Rucio-Auth-Token': token, 'Content-Type': 'application/json' } };
  const { body: ids } = await fetchJson<string[]>(`${base}/rules/`, {
    ...opts, method: 'POST',
    body: JSON.stringify({ dids: [{ scope, name }], account: source.account, copies: 1, rse_expression: source.localRse, lifetime: source.ruleLifetimeSeconds ?? 86_400 }),
  });
  const id = Array.isArray(ids) ? ids[0] : undefined;
  if (typeof id !== 'string' || !/^[0-9a-f-]{32,36}$/i.test(id)) throw new Error('Rucio made a rule but sent no rule id');
  for (let i = 0; ; i++) {
    const { body: rule } = await fetchJson<{ state?: string }>(`${base}/rules/${id}`, opts);
    if (rule?.state === 'OK') return [message('urn:data-rule', 'INFO', 'Rucio rule {id} put {did} on {rse}', { id, did: `${scope}:${name}`, rse: source.localRse! })];
    if (rule?.state === 'STUCK' || rule?.state === 'SUSPENDED') throw new PlanRefused(`the Rucio rule ${id} to ${source.localRse} is ${rule.state}`);
    await new Promise((r) => setTimeout(r, RULE_POLL_MS[Math.min(i, RULE_POLL_MS.length - 1)]));
    ctx.signal?.throwIfAborted();
  }
}

function checksumsOf(line: ReplicaLine): Checksum[] {
  return [
    ...(line.adler32 ? [{ type: 'adler32', value: line.adler32 }] : []),
    ...(line.md5 ? [{ type: 'md5', value: line.md5 }] : []),
  ];
}

/**
 * RucioDataResource: a DID (scope and name; a file, or a dataset or container whose files are listed)
 * in a configured Rucio. The worker authenticates, lists the replicas (closest first), optionally asks
 * for a rule to a local RSE first, and plans each file from its best replica the egress policy allows,
 * with its size and checksums (Adler-32, MD5).
 */
export const rucioKind: DataKind = {
  kind: Kinds.rucioData,
  available: (sources) => sources.rucio.length > 0,
  async plan(raw: DataResource, ctx: PlanContext): Promise<FetchPlan> {
    const spec = (raw as RucioSpec).rucio ?? {};
    const source = matchServiceSource(spec.endpoint, ctx.sources.rucio);
    if (!source) throw new PlanRefused('no Rucio server this broker is configured for matches the data resource');
    const problem = scopeProblem(spec.scope) ?? didNameProblem(spec.object);
    if (problem) throw new PlanRefused(problem);
    const [scope, name] = [spec.scope!, spec.object!];
    const token = await rucioToken(source, ctx);
    const messages: MessageItem[] = source.localRse ? await ruleToLocal(source, ctx, token, scope, name) : [];
    const lines = await listReplicas(source, ctx, token, scope, name, source.localRse);
    if (!lines.length) throw new PlanRefused(`Rucio lists no replica of ${scope}:${name}`);
    const downloadToken = source.downloadAuth === 'rucio' ? token : source.downloadAuth === 'owner' ? await ctx.ownerToken() : undefined;
    const files = uniqueNames(lines.map((l) => safeFileName(String(l.name).split('/').pop(), 'data')));
    const items: FetchItem[] = lines.map((line, i) => {
      const replicas: ReplicaUrl[] = Object.entries(line.pfns ?? {}).map(([url, p], n) => ({ url, site: p.rse ?? 'unknown', priority: p.priority ?? n + 1 }));
      const { usable, messages: refused } = usableReplicas(replicas, ctx.policy, source.schemes ?? ['https', 'davs']);
      messages.push(...refused);
      const best = usable[0];
      if (!best) throw new PlanRefused(`no replica of ${line.scope}:${line.name} can be fetched under the broker's egress policy`, messages);
      messages.push(message('urn:data-located', 'INFO', 'Rucio replica of {did} at {site}: {url} ({bytes} bytes)', {
        did: `${line.scope}:${line.name}`, site: best.site, url: shownUrl(best.url), bytes: line.bytes ?? 'unknown',
      }));
      return {
        url: best.url, shownUrl: shownUrl(best.url), file: files[i]!,
        ...(usable.length > 1 ? { alternatives: usable.slice(1).map((r) => ({ url: r.url, ...(downloadToken ? { headers: { Authorization: `Bearer ${downloadToken}` } } : {}) })) } : {}),
        ...(typeof line.bytes === 'number' ? { size: line.bytes } : {}),
        checksums: checksumsOf(line),
        ...(downloadToken ? { headers: { Authorization: `Bearer ${downloadToken}` } } : {}),
      };
    });
    return { source: source.name, items, messages };
  },
};
