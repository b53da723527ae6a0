import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, until } from './env.js';
import type { Service } from './processes.js';

// tests/dist/support -> repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));
export const HAPROXY_CONFIG = `${root}deploy/haproxy/haproxy.cfg`;

const hostPort = (url: string) => new URL(url).host;

export interface LoadBalancer extends Service {
  /** Prometheus metrics and the stats page of the load balancer itself. */
  adminUrl: string;
}

/**
 * Runs HAProxy with the deployment's own configuration (deploy/haproxy/haproxy.cfg) in front of the
 * given replicas, on free loopback ports, as `scripts/start-local.sh` and compose do.
 * Resolves once every API has a replica in service (its /readyz answers 200).
 */
export async function startLoadBalancer(upstreams: { offersets: string[]; executions: string[] }): Promise<LoadBalancer> {
  const [port, admin] = await Promise.all([freePort(), freePort()]);
  const env: Record<string, string> = {
    // HAProxy lives in /usr/sbin, which a non-root PATH may lack.
    PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
    EB_LB_BIND: `127.0.0.1:${port}`,
    EB_LB_ADMIN_BIND: `127.0.0.1:${admin}`,
  };
  upstreams.offersets.forEach((u, i) => { env[`EB_OFFERSET_API_${i + 1}`] = hostPort(u); });
  upstreams.executions.forEach((u, i) => { env[`EB_EXECUTION_API_${i + 1}`] = hostPort(u); });
  const child = spawn('haproxy', ['-W', '-db', '-f', HAPROXY_CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    const failed = await Promise.race([spawnError, Promise.resolve(undefined)]);
    if (failed) throw new Error(`haproxy did not start (is it installed? scripts/ensure-services.sh installs it): ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${output.join('')}`);
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    return r?.ok;
  }, 20_000, 100);
  return { name: 'load-balancer', url, adminUrl: `http://127.0.0.1:${admin}`, child, output };
}
