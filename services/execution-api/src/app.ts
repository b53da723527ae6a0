import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Db } from '@eb/db';
import type { Sealer, StepQueues } from '@eb/core';
import { createMetrics, serveOpenApi, serviceShell, type AuthSettings } from '@eb/http-kit';
import type { PhaseListener } from './phases/listener.js';
import { executionRoutes } from './routes/executions.js';
import { LongPolls } from './phases/long-polls.js';
import { outputRoutes } from './routes/outputs.js';

export function createApp(deps: { db: Db; queues: StepQueues; listener: PhaseListener; logger: Logger; auth: AuthSettings; sealer?: Sealer }) {
  const metrics = createMetrics('execution-api');
  const shell = serviceShell({
    logger: deps.logger,
    metrics,
    ready: async () => {
      await sql`select 1`.execute(deps.db);
      return deps.listener.connected;
    },
  });
  serveOpenApi(shell.app);
  const updates = metrics.counter('eb_client_updates_total', 'Phase changes applied for clients: offers accepted and rejected, executions cancelled', ['phase']);
  const longPolls = new LongPolls();
  metrics.gauge('eb_long_polls_open', 'Long-polls held open by this process', [], async (g) => { g.set(longPolls.open); });
  shell.app.use(executionRoutes({ ...deps, longPolls, onClientUpdate: (phase) => updates.inc({ phase }) }));
  shell.app.use(outputRoutes(deps));
  shell.finish();
  return shell.app;
}
