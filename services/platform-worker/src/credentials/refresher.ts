import type { Logger } from 'pino';
import { message, type ExecutionPhase } from '@eb/schema';
import {
  findExecutionRow, listExpiringCredentials, recordRefresh, recordRefreshFailure, transitionExecutionAt,
  type Db, type StoredCredential,
} from '@eb/db';
import { wakeExecution, type Sealer, type StepJob } from '@eb/core';
import type { Queue } from 'bullmq';

export interface RefreshSettings {
  /** The OIDC token endpoint; discovered from the issuer when unset. */
  tokenUrl?: string;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  /** Refresh tokens this long before they expire. */
  aheadMs: number;
}

interface TokenAnswer {
  access_token: string;
  expires_in?: number;
  refresh_token?: string;
}

async function tokenEndpoint(s: RefreshSettings): Promise<string> {
  if (s.tokenUrl) return s.tokenUrl;
  if (!s.issuer) throw new Error('no token endpoint configured (EB_OIDC_TOKEN_URL or EB_OIDC_ISSUER)');
  const res = await fetch(`${s.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`issuer discovery answered HTTP ${res.status}`);
  return ((await res.json()) as { token_endpoint: string }).token_endpoint;
}

/** Exchanges a refresh token at the issuer (RFC 6749 section 6). */
async function refreshAt(s: RefreshSettings, refreshToken: string): Promise<TokenAnswer> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (s.clientId) body.set('client_id', s.clientId);
  if (s.clientSecret) body.set('client_secret', s.clientSecret);
  const res = await fetch(await tokenEndpoint(s), { method: 'POST', body, headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`the issuer refused the refresh (HTTP ${res.status}: ${(await res.text()).slice(0, 200)})`);
  const answer = (await res.json()) as TokenAnswer;
  if (!answer.access_token) throw new Error('the issuer answered without an access token');
  return answer;
}

/**
 * Keeps the owners' tokens of running executions fresh: each is refreshed some time before it expires.
 * One that has expired and cannot be renewed fails its execution with a message saying so, since the
 * work it stands for can no longer be done on the owner's behalf.
 */
export async function refreshOnce(db: Db, queue: Queue<StepJob>, platform: string, sealer: Sealer, s: RefreshSettings, logger: Logger): Promise<{ refreshed: number; failed: number }> {
  let refreshed = 0;
  let failed = 0;
  for (const c of await listExpiringCredentials(db, platform, s.aheadMs)) {
    try {
      if (!c.refreshToken) throw new Error('no refresh token was given at acceptance');
      const answer = await refreshAt(s, sealer.open(c.refreshToken));
      const expiresAt = answer.expires_in ? new Date(Date.now() + answer.expires_in * 1000) : null;
      await recordRefresh(db, c.executionUuid, sealer.seal(answer.access_token),
        answer.refresh_token ? sealer.seal(answer.refresh_token) : c.refreshToken, expiresAt);
      refreshed += 1;
    } catch (err) {
      await recordRefreshFailure(db, c.executionUuid);
      if (c.expiresAt && c.expiresAt.getTime() <= Date.now()) {
        await failExpired(db, queue, c, (err as Error).message);
        failed += 1;
      } else {
        logger.warn({ execution: c.executionUuid, err: (err as Error).message }, 'token refresh failed; will retry before it expires');
      }
    }
  }
  return { refreshed, failed };
}

async function failExpired(db: Db, queue: Queue<StepJob>, c: StoredCredential, reason: string): Promise<void> {
  const row = await findExecutionRow(db, c.executionUuid);
  if (!row) return;
  const m = message('urn:credential-expired', 'ERROR', 'The owner\'s token expired at {expired} and could not be renewed: {reason}', {
    expired: c.expiresAt!.toISOString(), reason,
  });
  // The message goes with the move: whoever sees it FAILED sees why.
  if (await transitionExecutionAt(db, c.executionUuid, row.phase as ExecutionPhase, 'FAILED', m.message, { messages: [m] })) {
    await wakeExecution(queue, c.executionUuid);
  }
}

export function startRefresher(db: Db, queue: Queue<StepJob>, platform: string, sealer: Sealer, s: RefreshSettings, logger: Logger, everyMs: number): () => Promise<void> {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = refreshOnce(db, queue, platform, sealer, s, logger)
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'refresher failed; will retry'))
      .finally(() => { if (!stopped) timer = setTimeout(tick, everyMs); });
  };
  let timer = setTimeout(tick, everyMs);
  return async () => { stopped = true; clearTimeout(timer); await running; };
}
