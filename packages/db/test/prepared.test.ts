import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectDatabase, type DatabaseHandle } from '../src/index.js';

// Statements prepared once per connection (prepared.ts): bounded, and healed after a schema change.
const url = process.env.TEST_DATABASE_URL;
if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through scripts/test.sh');
let h: DatabaseHandle;

beforeAll(() => {
  h = connectDatabase(url, { max: 1, applicationName: 'prepared-test' });
});
afterAll(() => h.close());

const preparedCount = async () =>
  (await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(h.db)).rows[0]!.n;

describe('prepared statements', () => {
  test('a statement run again is prepared once on its connection, and gives the same answers', async () => {
    for (const v of [1, 2, 3]) {
      const { rows } = await sql<{ v: number }>`select ${v}::int + 1 as v`.execute(h.db);
      expect(rows[0]!.v).toBe(v + 1);
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement like 'select $1::int + 1 as v%'`.execute(h.db);
    expect(rows[0]!.n).toBe(1);
  });

  test('texts that keep changing (a client could make thousands) never prepare more than the bound', async () => {
    for (let i = 0; i < 300; i++) await sql.raw(`select ${i} as n_${i}`).execute(h.db);
    expect(await preparedCount()).toBeLessThanOrEqual(128);
    // Lists of values of any length are never prepared.
    const before = await preparedCount();
    for (let n = 2; n < 40; n++) await h.db.selectFrom('platforms').select('name').where('name', 'in', Array.from({ length: n }, (_, i) => `p${i}`)).execute();
    expect(await preparedCount()).toBe(before);
  });

  test('a statement prepared before its table changed fails once, then is prepared afresh', async () => {
    await sql`drop table if exists prepared_probe`.execute(h.db);
    await sql`create table prepared_probe (a int)`.execute(h.db);
    await sql`insert into prepared_probe values (1)`.execute(h.db);
    const read = () => sql<Record<string, number>>`select * from prepared_probe`.execute(h.db);
    expect((await read()).rows).toEqual([{ a: 1 }]);
    await sql`alter table prepared_probe add column b int default 2`.execute(h.db);
    const first = await read().then(() => 'answered', (err: Error) => err.message);
    // PostgreSQL may re-plan by itself; if it refused, the next call must answer.
    if (first !== 'answered') expect(first).toMatch(/cached plan must not change result type/);
    expect((await read()).rows).toEqual([{ a: 1, b: 2 }]);
    await sql`drop table prepared_probe`.execute(h.db);
  });
});
