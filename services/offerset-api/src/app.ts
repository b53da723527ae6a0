import type { Logger } from 'pino';
import { sql } from 'kysely';
import { isPlatformDeclared, type Db } from '@eb/db';
import type { Sealer, StepQueues } from '@eb/core';
import { createMetrics, serveOpenApi, serviceShell, type AuthSettings } from '@eb/http-kit';
import type { OffersetApiConfig } from './config.js';
import { offerMetrics } from './metrics.js';
import { offersetRoutes } from './routes/offersets.js';
import type { Policy } from './policies/policy.js';

export function createApp(deps: { db: Db; queues: StepQueues; config: OffersetApiConfig; logger: Logger; policies?: readonly Policy[]; auth: AuthSettings; sealer?: Sealer }) {
  const metrics = createMetrics('offerset-api');
  // Until a worker of its platform has declared what it can run, every offer request would be answered
  // NO (urn:platform-unavailable): not ready, so a load balancer sends it nothing yet. Once declared,
  // the declaration stays in the platform's row.
  let declared = false;
  const shell = serviceShell({
    logger: deps.logger,
    metrics,
    ready: async () => {
      await sql`select 1`.execute(deps.db);
      declared ||= await isPlatformDeclared(deps.db, deps.config.platform.name);
      return declared;
    },
  });
  serveOpenApi(shell.app);
  shell.app.use(offersetRoutes({ ...deps, policies: deps.policies ?? [], metrics: offerMetrics(metrics) }));
  shell.finish();
  return shell.app;
}
