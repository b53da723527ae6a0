import http from 'node:http';
import { createLogger } from '@eb/http-kit';
import { routeFor } from './route.js';

// A single base URL for local mode, as an ingress gives in a cluster: paths go to the service that owns them.
const logger = createLogger('gateway');
// Each may list several replicas, comma-separated; requests go round-robin.
const list = (v: string) => v.split(',').map((u) => new URL(u.trim()));
const upstreams = {
  offersets: list(process.env.EB_OFFERSET_API_URL ?? 'http://127.0.0.1:8081'),
  executions: list(process.env.EB_EXECUTION_API_URL ?? 'http://127.0.0.1:8082'),
};
let turn = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const problem = (res: http.ServerResponse, status: number, title: string, detail: string) => {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `urn:eb:problem:${title.toLowerCase().replace(/ /g, '-')}`, title, status, detail }));
};

const server = http.createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/healthz' || path === '/readyz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"status":"ok"}');
  }
  const target = routeFor(path);
  if (!target) return problem(res, 404, 'Not Found', `No resource at ${req.method} ${path}`);
  const replicas = upstreams[target];
  const up = replicas[turn++ % replicas.length]!;
  const headers = { ...req.headers, 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': 'http' };
  const forward = http.request({ host: up.hostname, port: up.port, method: req.method, path, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  forward.on('error', (err) => {
    logger.warn({ err: err.message, target }, 'upstream error');
    if (!res.headersSent) problem(res, 502, 'Bad Gateway', `The ${target} service did not answer.`);
    else res.destroy();
  });
  req.pipe(forward);
});
server.requestTimeout = 0;
const port = Number(process.env.PORT ?? 8080);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => logger.info({ port }, 'gateway listening'));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => server.close(() => process.exit(0)));
