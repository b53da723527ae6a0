import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { problemHandler, HttpProblem } from './problem.js';

export interface ServiceShell {
  app: Express;
  /** Adds the not-found and problem handlers; call after the routes. */
  finish(): void;
}

/**
 * The parts every HTTP service shares: request logging, metrics, health and readiness, and
 * RFC 9457 errors for anything unmatched or thrown.
 */
export function serviceShell(opts: { logger: Logger; metrics: Metrics; ready: () => Promise<boolean> }): ServiceShell {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(pinoHttp({ logger: opts.logger, autoLogging: { ignore: (req) => /^\/(healthz|readyz|metrics)$/.test(req.url ?? '') } }));
  app.use(opts.metrics.httpMiddleware);
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    const ok = await opts.ready().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
  return {
    app,
    finish() {
      app.use((req, _res, next) => next(new HttpProblem(404, 'Not Found', `No resource at ${req.method} ${req.path}`)));
      app.use(problemHandler(opts.logger));
    },
  };
}

/**
 * Listens, and on SIGTERM/SIGINT stops taking connections, lets requests in flight finish, then
 * runs `cleanup` (close pools and queues) and exits.
 */
export function listenGracefully(app: Express, port: number, host: string, logger: Logger, cleanup: () => Promise<void>): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(port, host, () => {
      logger.info({ port, host }, 'listening');
      resolve(server);
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.close(async () => {
        await cleanup().catch((err) => logger.error({ err }, 'cleanup failed'));
        logger.info('stopped');
        process.exit(0);
      });
      server.closeIdleConnections();
      // Long-polls are held open for at most a minute; do not wait for stragglers beyond that.
      setTimeout(() => server.closeAllConnections(), 65_000).unref();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
