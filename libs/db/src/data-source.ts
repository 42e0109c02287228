import 'reflect-metadata';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * Every pool's connections, whatever a caller adds or overrides (pool size, application name):
 * - fail fast rather than hang when Postgres is away: callers answer 503 and readiness says why;
 * - a statement whose client has gone (a worker killed mid-page) ends within 5 s instead of running to its
 *   end, still holding its rows' locks (Postgres 14 and later; we run 17).
 */
const SESSION_DEFAULTS = {
  max: 20, application_name: 'sop-engine', connectionTimeoutMillis: 5000, options: '-c client_connection_check_interval=5000',
};

export function dataSourceOptions(url: string, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    ...extra,
    extra: { ...SESSION_DEFAULTS, ...(extra as { extra?: object }).extra },
  } as DataSourceOptions;
}

/** Applies pending migrations; returns the names of those it ran. */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(url));
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** The server's version: a round trip that proves the database answers (the readiness probe). */
export async function serverVersion(db: Pick<DataSource, 'query'>): Promise<string> {
  const [row] = await db.query('SHOW server_version');
  return row.server_version;
}
