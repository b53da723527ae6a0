// The offers baseline: Express + pg doing the writes one offer request makes (an offer set, 4 offers,
// 4 bookings, one transaction), with no validation, planning or capacity accounting.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { connectDatabase, insertBaselineOfferSet, type NewOffer } from '@eb/db';
import { envInt, envString } from '@eb/core';

const database = connectDatabase(envString('DATABASE_URL'), { applicationName: 'bench-baseline' });
const platform = envString('EB_PLATFORM_NAME');
const app = express();
app.use(express.json());
app.get('/readyz', (_req, res) => { res.status(200).end(); });
app.post('/offersets', async (req, res) => {
  const now = Date.now();
  const expires = new Date(now + 300_000);
  const offers: NewOffer[] = [0, 0, 900_000, 1_800_000].map((delay, i) => ({
    uuid: randomUUID(), name: `offer-${i}`, platform, expires, prepareStart: new Date(now + delay), prepareMs: 30_000,
    availableStart: new Date(now + delay + 30_000), availableMs: 3_600_000, releaseStart: new Date(now + delay + 3_630_000),
    releaseMs: 10_000, cores: i === 1 ? 1 : 4, memoryGib: i === 1 ? 1 : 4, storageGib: 0, interactive: false, components: [],
  }));
  const uuid = randomUUID();
  await insertBaselineOfferSet(database.db, { uuid, owner: 'bench', name: null, expires, result: 'YES', request: req.body, messages: [], offers });
  res.location(`/offersets/${uuid}`).status(303).end();
});
app.listen(envInt('PORT', 0), '127.0.0.1');
