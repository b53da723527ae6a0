import { connectDatabase, ensurePlatform, migrateToLatest, upsertPlatform } from '@eb/db';
import { StepQueues, redisConnection, sealerFromEnv } from '@eb/core';
import { authSettingsFromEnv, createLogger, listenGracefully } from '@eb/http-kit';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { configuredPolicies } from './policies/configured.js';

const logger = createLogger('offerset-api');
const config = loadConfig();
const database = connectDatabase(config.databaseUrl, { applicationName: 'offerset-api' });
if (process.env.EB_MIGRATE_ON_START !== 'false') await migrateToLatest(database.db);
// The Docker platform's capacity comes from its engine, declared by the workers: without a configured
// figure the offer-set API only makes sure the row exists (no capacity until a worker has reported).
const fromEngine = config.platform.type === 'docker' && (!process.env.EB_CAPACITY_CORES || !process.env.EB_CAPACITY_MEMORY_GIB);
if (fromEngine) await ensurePlatform(database.db, config.platform.name, config.platform.storageGib);
else await upsertPlatform(database.db, config.platform);
const redis = redisConnection(config.redisUrl);
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
const queues = new StepQueues(redis);
const policies = configuredPolicies();
logger.info({ policies: policies.map((p) => p.name) }, 'policies');
const auth = authSettingsFromEnv();
if (auth.disabled) logger.warn('authentication is off (EB_AUTH=none): every caller is "anonymous"');
const sealer = sealerFromEnv();
const app = createApp({ db: database.db, queues, config, logger, policies, auth, ...(sealer ? { sealer } : {}) });
await listenGracefully(app, config.port, config.host, logger, async () => {
  await queues.close();
  redis.disconnect();
  await database.close();
});
