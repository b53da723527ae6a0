import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSession {
  id: string;
  name: string;
  image: string;
  type: string;
  status: string;
  cores: string;
  ram: string;
  cmd?: string;
  args?: string;
  env: string[];
  created: number;
  deletedAt?: number;
  renewals: number;
  connectURL: string;
  expiryTime: string;
}

export interface FakeSkaha {
  url: string;
  sessions: Map<string, FakeSession>;
  /** Tokens accepted now; change it to expire tokens. */
  validTokens: Set<string>;
  requests: { method: string; path: string; auth?: string }[];
  failNext(method: string, path: RegExp, status: number, times?: number): void;
  close(): Promise<void>;
}

/**
 * A stand-in for CANFAR's Skaha session API (paths, form fields, statuses and error codes as in
 * shared/reference/skaha): sessions go Pending -> Running, headless ones then Completed or Failed
 * (Failed when their command says "fail"), deleted ones Terminating -> gone (404).
 */
export async function startFakeSkaha(opts: { startMs?: number; runMs?: number; terminateMs?: number } = {}): Promise<FakeSkaha> {
  const startMs = opts.startMs ?? 150;
  const runMs = opts.runMs ?? 250;
  const terminateMs = opts.terminateMs ?? 100;
  const sessions = new Map<string, FakeSession>();
  const validTokens = new Set<string>();
  const requests: FakeSkaha['requests'] = [];
  const failures: { method: string; path: RegExp; status: number; times: number }[] = [];
  let base = '';

  const statusOf = (s: FakeSession): string | undefined => {
    const now = Date.now();
    if (s.deletedAt !== undefined) return now - s.deletedAt < terminateMs ? 'Terminating' : undefined;
    const age = now - s.created;
    if (age < startMs) return 'Pending';
    if (s.type !== 'headless' || age < startMs + runMs) return 'Running';
    return /fail/.test(`${s.cmd ?? ''} ${s.args ?? ''}`) ? 'Failed' : 'Completed';
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    requests.push({ method: req.method!, path: url.pathname + url.search, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const text = (code: number, body: string) => { res.writeHead(code, { 'content-type': 'text/plain' }); res.end(body); };
    const json = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !validTokens.has(token)) return text(401, 'Unauthorized: invalid or expired token');
    const failure = failures.find((f) => f.method === req.method && f.path.test(url.pathname) && f.times > 0);
    if (failure) { failure.times -= 1; return text(failure.status, `injected ${failure.status}`); }
    const m = /^\/skaha\/(v0|v1)\/session(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return text(404, 'not found');
    const id = m[2];
    const view = (s: FakeSession) => ({
      id: s.id, userid: 'owner', image: s.image, type: s.type, status: statusOf(s), name: s.name,
      startTime: new Date(s.created).toISOString(), expiryTime: s.expiryTime, connectURL: s.connectURL,
      requestedRAM: `${s.ram}G`, requestedCPUCores: s.cores,
    });
    const live = (sid: string) => { const s = sessions.get(sid); return s && statusOf(s) !== undefined ? s : undefined; };
    if (!id && req.method === 'GET') return json(200, [...sessions.values()].filter((s) => statusOf(s) !== undefined).map(view));
    if (!id && req.method === 'POST') {
      const form = new URLSearchParams(raw);
      const name = form.get('name');
      const image = form.get('image');
      if (!name || !image) return text(400, 'missing required parameter: name and image');
      if (/missing/.test(image)) return text(400, `image not found: ${image}`);
      const sid = randomBytes(4).toString('hex');
      const type = form.get('type') ?? 'notebook';
      sessions.set(sid, {
        id: sid, name, image, type, status: 'Pending', cores: form.get('cores') ?? '1', ram: form.get('ram') ?? '1',
        ...(form.get('cmd') ? { cmd: form.get('cmd')! } : {}), ...(form.get('args') ? { args: form.get('args')! } : {}),
        env: form.getAll('env'), created: Date.now(), renewals: 0,
        connectURL: `${base}/session/${type}/${sid}/`, expiryTime: new Date(Date.now() + 4 * 86_400_000).toISOString(),
      });
      return text(200, `${sid}\n`);
    }
    const s = id ? live(id) : undefined;
    if (!s) return text(404, `session not found: ${id}`);
    if (req.method === 'GET') {
      if (url.searchParams.get('view') === 'logs') return text(200, `starting ${s.image}\nrunning ${s.cmd ?? ''} ${s.args ?? ''}\nenv ${s.env.join(' ')}\n`);
      return json(200, view(s));
    }
    if (req.method === 'POST' && url.searchParams.get('action') === 'renew') {
      s.renewals += 1;
      s.expiryTime = new Date(Date.now() + 4 * 86_400_000).toISOString();
      return text(200, '');
    }
    if (req.method === 'DELETE') {
      s.deletedAt = Date.now();
      return text(200, '');
    }
    text(400, 'unsupported');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/skaha`, sessions, validTokens, requests,
    failNext: (method, path, status, times = 1) => { failures.push({ method, path, status, times }); },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
