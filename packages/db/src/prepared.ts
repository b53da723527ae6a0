import type pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';

/** Texts made for a list of values (`in ($1, $2, …)`) are as many as the lists' lengths: not prepared. */
const VALUE_LIST = /\(\$\d+, \$\d+/;
/** Only queries and changes of rows: a migration's statements run once and would use up the names. */
const ROWS = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * The pool as Kysely uses it, with the first statement texts it meets prepared on each connection
 * (named statements): PostgreSQL then parses and plans each once per connection, not at every call.
 * The worker's phase moves are few texts run many times, and planning them took a quarter of the
 * database's time. At most `maxPrepared` texts per process (each once per connection), so that texts
 * that vary cannot fill the server's memory; 0 prepares nothing (behind a pooler that cannot keep them).
 */
export function preparingPool(pool: pg.Pool, maxPrepared: number): PostgresPool {
  const names = new Map<string, string>();
  let made = 0;
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && made < maxPrepared && !VALUE_LIST.test(text) && ROWS.test(text)) {
      name = `eb_${made++}`;
      names.set(text, name);
    }
    return name;
  };
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const query = (textOrCursor: unknown, values?: ReadonlyArray<unknown>) => {
      if (typeof textOrCursor !== 'string') return client.query(textOrCursor as pg.Submittable);
      const text = textOrCursor;
      const name = nameOf(text);
      if (!name) return client.query({ text, values: [...(values ?? [])] });
      return client.query({ name, text, values: [...(values ?? [])] }).catch((err: unknown) => {
        // A statement prepared before a table it reads changed (a migration by a newer replica) fails
        // once; it is prepared afresh, under a new name, the next time.
        if ((err as { code?: string }).code === '0A000' && names.get(text) === name) names.delete(text);
        throw err;
      });
    };
    // The overloads (a text, or a cursor) are one function here: pg tells them apart the same way.
    return { query, release: () => client.release() } as unknown as PostgresPoolClient;
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      let w = wrappers.get(client);
      if (!w) wrappers.set(client, (w = wrap(client)));
      return w;
    },
    end: () => pool.end(),
  };
}

