import { dataSourceOptions, runMigrations } from '@sop/db';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { testEnv } from './env';
import { Http } from './http';
import { Stack } from './stack';

/**
 * A database of the test file's own on the test server (`<prefix>_<random>`), migrated, with the system started on
 * it: for tests whose statements read or lock every row of a table, or set its statistics, which in the suites'
 * shared database would be other files' rows. `close` stops the system and drops the database.
 */
export async function privateStack(prefix: string): Promise<{ url: string; stack: Stack; http: Http; close: () => Promise<void> }> {
  const server = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 1 } })).initialize();
  const database = `${prefix}_${randomBytes(4).toString('hex')}`;
  let stack: Stack | undefined;
  const close = async () => {
    await stack?.stop();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.destroy();
  };
  try {
    await server.query(`CREATE DATABASE ${database}`);
    const url = new URL(testEnv('DATABASE_URL'));
    url.pathname = `/${database}`;
    await runMigrations(url.toString());
    stack = await Stack.start({ env: { DATABASE_URL: url.toString() } });
    return { url: url.toString(), stack, http: new Http(stack.baseUrl), close };
  } catch (err) {
    await close();
    throw err;
  }
}
