import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './env.js';

// tests/dist/support -> repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
}

/**
 * Starts one of the broker's services as its own process and waits until it answers /readyz; the
 * offer-set API only until it answers /healthz, since it is ready only once a worker of its platform
 * has declared what it can run, and tests start it before that worker (or declare for a worker that
 * does not run).
 */
export async function startService(name: string, port: number, env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [`${root}services/${name}/dist/src/main.js`], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const service = { name, url, child, output };
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output.join('')}`);
    const r = await fetch(`${url}${name === 'offerset-api' ? '/healthz' : '/readyz'}`).catch(() => undefined);
    return r?.ok;
    // Generous: on a loaded 2-core machine a Node service can take a while to start.
  }, 60_000, 100);
  return service;
}

export async function stopService(s: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill(signal);
  });
}
