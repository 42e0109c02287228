import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@sop/db';
import { ROOT, testEnv } from '../support/env';
import { eventually } from '../support/poll';

/**
 * A process killed in the middle of a statement (a worker SIGKILLed during a page) must not leave its statement
 * running in Postgres, holding its locks, for minutes: our pools ask Postgres to check the client every 5 s.
 */
describe('sessions of a killed process (real Postgres)', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 2 } })).initialize();
  });
  afterAll(() => db?.destroy());

  it('ends the statement of a client killed with SIGKILL within seconds', async () => {
    const marker = `killed-client-${process.pid}-${Date.now()}`;
    const script = `
      const { DataSource } = require('typeorm');
      const { dataSourceOptions } = require(${JSON.stringify(join(ROOT, 'libs/db/dist'))});
      new DataSource(dataSourceOptions(process.env.DATABASE_URL, { extra: { max: 1, application_name: ${JSON.stringify(marker)} } }))
        .initialize().then((ds) => { process.stdout.write('ready\\n'); return ds.query('SELECT pg_sleep(120)'); });`;
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, DATABASE_URL: testEnv('DATABASE_URL') }, stdio: ['ignore', 'pipe', 'inherit'] });
    const running = async () => (await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'`, [marker]))[0].n;
    await eventually(async () => expect(await running()).toBe(1), 20_000);
    expect((await db.query(`SELECT current_setting('client_connection_check_interval') AS v`))[0].v).toBe('5s');

    child.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(async () => expect(await running()).toBe(0), 20_000);
    // without the check the statement runs its 120 s; with it, Postgres notices at its next 5 s check
    expect(Date.now() - killedAt).toBeLessThan(12_000);
  });
});
