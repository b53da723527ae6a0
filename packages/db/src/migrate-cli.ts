import { connectDatabase } from './connect.js';
import { migrateToLatest } from './migrate.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(2);
}
const handle = connectDatabase(url, { max: 1, applicationName: 'eb-migrate' });
try {
  const applied = await migrateToLatest(handle.db);
  console.log(JSON.stringify({ msg: 'migrated', applied }));
} finally {
  await handle.close();
}
