import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * A named prepared statement on one of the pool's connections: Postgres parses and plans it once per connection,
 * not on every call. For statements run very often (a callback's insert) or costly to plan (a dashboard's).
 */
export async function preparedQuery<T>(db: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (db.driver as unknown as { master: { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }> } }).master;
  return (await pool.query({ name, text, values })).rows;
}

/**
 * The same for a statement built from a request's filters: each distinct text is its own statement (a list
 * has a handful of shapes), named by `scope` and a digest of the text.
 */
export function preparedShape<T>(db: DataSource, scope: string, text: string, values: unknown[]): Promise<T[]> {
  return preparedQuery<T>(db, `${scope}.${createHash('sha1').update(text).digest('base64url')}`, text, values);
}
