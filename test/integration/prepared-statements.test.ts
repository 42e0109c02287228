import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions, preparedQuery, preparedShape } from '@sop/db';
import { testEnv } from '../support/env';

/** Named prepared statements (the inbox's lists, WeCom's callbacks, the dashboards): across a migration, and how they are planned (real Postgres). */
describe('prepared statements', () => {
  let db: DataSource;
  const table = `prepared_${randomUUID().replace(/-/g, '')}`;
  beforeAll(async () => {
    db = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 1 } })).initialize();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
    await db.query(`INSERT INTO ${table} VALUES (1, 'one')`);
  });
  afterAll(async () => {
    await db?.query(`DROP TABLE IF EXISTS ${table}`);
    await db?.destroy();
  });

  it('still answers after a migration changed the columns a prepared SELECT * returns', async () => {
    const select = () => preparedQuery<Record<string, unknown>>(db, 'test.select-all', `SELECT * FROM ${table} WHERE id = $1`, [1]);
    expect(await select()).toEqual([{ id: 1, name: 'one' }]);
    // as a deploy's migration would, while this process keeps serving on the same connection
    await db.query(`ALTER TABLE ${table} ADD COLUMN note text DEFAULT 'added'`);
    expect(await select()).toEqual([{ id: 1, name: 'one', note: 'added' }]);
    expect(await select()).toEqual([{ id: 1, name: 'one', note: 'added' }]);
  });

  it('keeps one statement per shape of a built query, each with its own parameters', async () => {
    const byId = (id: number) => preparedShape<{ name: string }>(db, 'test.shape', `SELECT name FROM ${table} WHERE id = $1`, [id]);
    const byName = (name: string) => preparedShape<{ id: number }>(db, 'test.shape', `SELECT id FROM ${table} WHERE name = $1`, [name]);
    expect([await byId(1), await byName('one'), await byId(2)]).toEqual([[{ name: 'one' }], [{ id: 1 }], []]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'test.shape.%'`);
    expect(n).toBe(2);
  });

  it('plans a generic statement once, and leaves other statements to Postgres', async () => {
    // the statement reads its own counters, this run included: Postgres's own choice plans the first five runs for their values
    const plans = (name: string, plan?: 'generic') => preparedQuery<{ generic_plans: string; custom_plans: string }>(
      db, name, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE $1 || '#%'`, [name], plan);
    for (let run = 0; run < 3; run++) await Promise.all([plans('test.generic', 'generic'), plans('test.auto')]);
    expect(await plans('test.generic', 'generic')).toEqual([{ generic_plans: '4', custom_plans: '0' }]);
    expect(await plans('test.auto')).toEqual([{ generic_plans: '0', custom_plans: '4' }]);
    // the generic statements' connections are their own; the others' setting is Postgres's default
    const [[generic], [other]] = await Promise.all([
      preparedQuery<{ plan_cache_mode: string }>(db, 'test.mode', 'SHOW plan_cache_mode', [], 'generic'), db.query('SHOW plan_cache_mode')]);
    expect([generic.plan_cache_mode, other.plan_cache_mode]).toEqual(['force_generic_plan', 'auto']);
  });
});
