import { connectDatabase, migrateToLatest } from '@eb/db';
import { StepQueues, envInt, envString, redisConnection, sealerFromEnv } from '@eb/core';
import { authSettingsFromEnv, createLogger, listenGracefully } from '@eb/http-kit';
import { createApp } from './app.js';
import { PhaseListener } from './phases/listener.js';

const logger = createLogger('execution-api');
const databaseUrl = envString('DATABASE_URL');
const database = connectDatabase(databaseUrl, { applicationName: 'execution-api', max: envInt('EB_DB_POOL', 20) });
if (process.env.EB_MIGRATE_ON_START !== 'false') await migrateToLatest(database.db);
const listener = new PhaseListener(databaseUrl, logger);
await listener.start();
const redis = redisConnection(envString('REDIS_URL', 'redis://127.0.0.1:6379'));
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
const queues = new StepQueues(redis);
const auth = authSettingsFromEnv();
if (auth.disabled) logger.warn('authentication is off (EB_AUTH=none): every caller is "anonymous"');
const sealer = sealerFromEnv();
const app = createApp({ db: database.db, queues, listener, logger, auth, ...(sealer ? { sealer } : {}) });
await listenGracefully(app, envInt('PORT', 8082), process.env.HOST ?? '127.0.0.1', logger, async () => {
  await listener.stop();
  await queues.close();
  redis.disconnect();
  await database.close();
});
