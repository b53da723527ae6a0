import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeReplica {
  rse: string;
  url: string;
  priority: number;
}

export interface FakeFile {
  scope: string;
  name: string;
  bytes: number;
  md5: string;
  adler32: string;
  replicas: FakeReplica[];
}

export interface FakeRucio {
  url: string;
  files: Map<string, FakeFile>;
  datasets: Map<string, string[]>;
  requests: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body?: unknown }[];
  /** Where a rule's replica appears once the rule is OK. */
  ruleReplica: (file: FakeFile, rse: string) => FakeReplica;
  close(): Promise<void>;
}

/** Adler-32 as zlib defines it, written plainly (one byte at a time) for the tests' own checksums. */
export function adler32Of(data: Buffer): string {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a).toString(16).padStart(8, '0');
}

export const describeFile = (scope: string, name: string, content: Buffer, replicas: FakeReplica[]): FakeFile => ({
  scope, name, bytes: content.length, md5: createHash('md5').update(content).digest('hex'), adler32: adler32Of(content), replicas,
});

const exception = (cls: string, msg: string) => JSON.stringify({ ExceptionClass: cls, ExceptionMessage: msg });

/**
 * A stand-in for a Rucio server: /auth/userpass (X-Rucio-Account, -Username, -Password, answering
 * X-Rucio-Auth-Token), GET /replicas/{scope}/{name} as application/x-json-stream lines with pfns and
 * rses (datasets expanded into their files; rse_expression filters), POST /rules/ (201, a list of
 * ids) and GET /rules/{id} (REPLICATING, then OK, when the new replica appears); errors as Rucio sends
 * them (ExceptionClass, ExceptionMessage).
 */
export async function startFakeRucio(o: { account: string; username: string; password: string; rulePolls?: number }): Promise<FakeRucio> {
  const files = new Map<string, FakeFile>();
  const datasets = new Map<string, string[]>();
  const tokens = new Set<string>();
  const rules = new Map<string, { polls: number; dids: { scope: string; name: string }[]; rse: string }>();
  const requests: FakeRucio['requests'] = [];
  let ruleReplica: FakeRucio['ruleReplica'] = () => { throw new Error('no rule replica configured'); };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method!, path: url.pathname + url.search, headers: req.headers, body });
    const send = (code: number, text: string, type = 'application/json') => { res.writeHead(code, { 'content-type': type }); res.end(text); };
    if (url.pathname === '/auth/userpass' && req.method === 'GET') {
      const h = req.headers;
      if (h['x-rucio-account'] !== o.account || h['x-rucio-username'] !== o.username || h['x-rucio-password'] !== o.password) {
        return send(401, exception('CannotAuthenticate', `Cannot authenticate to account ${String(h['x-rucio-account'])} with given credentials`));
      }
      const token = `${o.account}-${randomBytes(8).toString('hex')}`;
      tokens.add(token);
      res.writeHead(200, { 'X-Rucio-Auth-Token': token, 'X-Rucio-Auth-Token-Expires': new Date(Date.now() + 3_600_000).toUTCString() });
      return res.end();
    }
    const token = req.headers['x-rucio-auth-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return send(401, exception('CannotAuthenticate', 'Cannot authenticate with given credentials'));
    const replicas = /^\/replicas\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (replicas && req.method === 'GET') {
      const did = `${decodeURIComponent(replicas[1]!)}:${decodeURIComponent(replicas[2]!)}`;
      const members = datasets.get(did) ?? (files.has(did) ? [did] : undefined);
      if (!members) return send(404, exception('DataIdentifierNotFound', `Data identifier '${did}' not found`));
      const rse = url.searchParams.get('rse_expression');
      const schemes = url.searchParams.get('schemes')?.split(',');
      const lines = members.map((m) => files.get(m)!).map((f) => {
        const reps = f.replicas.filter((r) => (!rse || r.rse === rse) && (!schemes || schemes.includes(new URL(r.url).protocol.slice(0, -1))));
        return JSON.stringify({
          scope: f.scope, name: f.name, bytes: f.bytes, md5: f.md5, adler32: f.adler32,
          pfns: Object.fromEntries(reps.map((r) => [r.url, { rse: r.rse, rse_id: r.rse.toLowerCase(), type: 'DISK', volatile: false, domain: 'wan', priority: r.priority, client_extract: false }])),
          rses: Object.fromEntries(reps.map((r) => [r.rse, [r.url]])),
          states: Object.fromEntries(reps.map((r) => [r.rse, 'AVAILABLE'])),
        });
      });
      return send(200, lines.join('\n') + '\n', 'application/x-json-stream');
    }
    if (url.pathname === '/rules/' && req.method === 'POST') {
      if (!Array.isArray(body?.dids) || typeof body.rse_expression !== 'string' || body.account !== o.account) return send(400, exception('InvalidObject', 'Provided object does not match schema'));
      const id = randomBytes(16).toString('hex');
      rules.set(id, { polls: 0, dids: body.dids, rse: body.rse_expression });
      return send(201, JSON.stringify([id]));
    }
    const rule = /^\/rules\/([0-9a-f]{32})$/.exec(url.pathname);
    if (rule && req.method === 'GET') {
      const r = rules.get(rule[1]!);
      if (!r) return send(404, exception('RuleNotFound', 'No replication rule found'));
      r.polls += 1;
      const done = r.polls > (o.rulePolls ?? 2);
      if (done && r.polls === (o.rulePolls ?? 2) + 1) {
        for (const d of r.dids) {
          for (const m of datasets.get(`${d.scope}:${d.name}`) ?? [`${d.scope}:${d.name}`]) {
            const f = files.get(m)!;
            f.replicas.push(ruleReplica(f, r.rse));
          }
        }
      }
      return send(200, JSON.stringify({ id: rule[1], state: done ? 'OK' : 'REPLICATING', rse_expression: r.rse, copies: 1 }));
    }
    send(404, exception('MethodNotFound', 'not found'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files, datasets, requests,
    set ruleReplica(fn: FakeRucio['ruleReplica']) { ruleReplica = fn; },
    get ruleReplica() { return ruleReplica; },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
