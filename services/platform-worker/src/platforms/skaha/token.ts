import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the bearer token for Skaha comes from; `refresh` is called when Skaha answers 401. */
export interface TokenSource {
  token(): Promise<string>;
  refresh(): Promise<string>;
  stop(): void;
}

export function staticToken(value: string): TokenSource {
  return { token: async () => value, refresh: async () => value, stop: () => undefined };
}

/**
 * A token printed by a configured command (e.g. a CADC/OIDC helper), fetched at start, renewed in the
 * background every `everyMs` so long executions never run on a stale one, and at once on a 401.
 */
export function commandToken(command: string, everyMs: number): TokenSource {
  let current: Promise<string> | undefined;
  const fetchToken = async () => {
    const { stdout } = await run('sh', ['-c', command], { timeout: 30_000 });
    const value = stdout.trim();
    if (!value) throw new Error('the token command printed nothing');
    return value;
  };
  const refresh = () => {
    const next = fetchToken();
    // Keep the last good token if a background refresh fails.
    current = next.catch((err: unknown) => { if (!current) throw err; return current; });
    return next;
  };
  const timer = setInterval(() => { void refresh().catch(() => undefined); }, everyMs);
  timer.unref();
  return {
    token: () => current ?? refresh(),
    refresh,
    stop: () => clearInterval(timer),
  };
}
