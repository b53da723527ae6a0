import { connectDatabase, migrateToLatest, upsertPlatform } from '@eb/db';
import { createStepQueue, redisConnection } from '@eb/core';
import { createLogger, listenGracefully } from '@eb/http-kit';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { configuredPolicies } from './policies/configured.js';

const logger = createLogger('offerset-api');
const config = loadConfig();
const database = connectDatabase(config.databaseUrl, { applicationName: 'offerset-api' });
if (process.env.EB_MIGRATE_ON_START !== 'false') await migrateToLatest(database.db);
await upsertPlatform(database.db, config.platform);
const redis = redisConnection(config.redisUrl);
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
const queue = createStepQueue(redis);
const policies = configuredPolicies();
logger.info({ policies: policies.map((p) => p.name) }, 'policies');
const app = createApp({ db: database.db, queue, config, logger, policies });
await listenGracefully(app, config.port, config.host, logger, async () => {
  await queue.close();
  redis.disconnect();
  await database.close();
});
