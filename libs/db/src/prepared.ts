import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

type Query = { name: string; text: string; values: unknown[] };
interface Pool {
  options: Record<string, unknown> & { options?: string; password?: unknown };
  Client: unknown;
  query(q: Query): Promise<{ rows: unknown[] }>;
  on(event: 'error', listener: (err: Error) => void): void;
  end(): Promise<void>;
}

/**
 * How Postgres plans a prepared statement: `auto` (its own choice: custom plans for the first five runs, then a
 * generic one only if its estimated cost is no higher), or `generic` (planned once per connection). The inbox's lists
 * need `generic`: Postgres estimates their generic plan dearer and so plans every run again, about 1 ms each, two to
 * three times what running them costs (docs/measurements.md, "A list planned once").
 */
export type PlanMode = 'auto' | 'generic';

/** Connections for `generic` statements: plan_cache_mode is per session, and forcing it on every connection would
 * give every parameterized query of the API a plan blind to its values (a segment's count, a search). */
const GENERIC_POOL_MAX = 10;
const genericPools = new WeakMap<DataSource, Pool>();

/** Bumped when a migration changed what a prepared statement returns: every statement is prepared again under a new name. */
let generation = 0;

/**
 * A named prepared statement on one of the pool's connections: Postgres parses it once per connection (and with
 * `plan: 'generic'` plans it once too), not on every call. For statements run very often (a callback's insert, an
 * inbox list) or costly to plan (a dashboard's). A migration run while this process serves (a rolling deploy) can
 * change the columns a prepared `SELECT *` returns, which Postgres refuses to execute ("cached plan must not change
 * result type"): the statement is then prepared again, once per connection.
 */
export async function preparedQuery<T>(db: DataSource, name: string, text: string, values: unknown[], plan: PlanMode = 'auto'): Promise<T[]> {
  const pool = plan === 'generic' ? genericPool(db) : mainPool(db);
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
export function preparedShape<T>(db: DataSource, scope: string, text: string, values: unknown[], plan: PlanMode = 'auto'): Promise<T[]> {
  return preparedQuery<T>(db, `${scope}.${createHash('sha1').update(text).digest('base64url')}`, text, values, plan);
}

const mainPool = (db: DataSource) => (db.driver as unknown as { master: Pool }).master;

/** The DataSource's second, smaller pool whose sessions plan prepared statements generically; ends with the DataSource. */
function genericPool(db: DataSource): Pool {
  let pool = genericPools.get(db);
  if (pool) return pool;
  const main = mainPool(db);
  const Ctor = main.constructor as new (options: object) => Pool;
  pool = new Ctor({
    ...main.options, ...('password' in main.options ? { password: main.options.password } : {}), Client: main.Client, max: GENERIC_POOL_MAX,
    options: `${main.options.options ?? ''} -c plan_cache_mode=force_generic_plan`.trim(),
  });
  // an idle connection Postgres closed (a restart): the pool drops it and the next statement opens another
  pool.on('error', () => undefined);
  const generic = pool;
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    genericPools.delete(db);
    await generic.end();
    return destroy();
  };
  genericPools.set(db, pool);
  return pool;
}
