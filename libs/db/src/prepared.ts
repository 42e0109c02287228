import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

type Pool = { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> };

/** Bumped when a migration changed what a prepared statement returns: every statement is prepared again under a new name. */
let generation = 0;

/**
 * A named prepared statement on one of the pool's connections: Postgres parses and plans it once per connection,
 * not on every call. For statements run very often (a callback's insert, an inbox list) or costly to plan (a
 * dashboard's). A migration run while this process serves (a rolling deploy) can change the columns a prepared
 * `SELECT *` returns, which Postgres refuses to execute ("cached plan must not change result type"): the
 * statement is then prepared again, once per connection.
 */
export async function preparedQuery<T>(db: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  const run = async () => (await pool.query({ name: `${name}#${generation}`, text, values })).rows as T[];
  try {
    return await run();
  } catch (err) {
    if ((err as { code?: string }).code !== '0A000') throw err;
    generation++;
    return run();
  }
}

/**
 * The same for a statement built from a request's filters: each distinct text is its own statement (a list
 * has a handful of shapes), named by `scope` and a digest of the text.
 */
export function preparedShape<T>(db: DataSource, scope: string, text: string, values: unknown[]): Promise<T[]> {
  return preparedQuery<T>(db, `${scope}.${createHash('sha1').update(text).digest('base64url')}`, text, values);
}
