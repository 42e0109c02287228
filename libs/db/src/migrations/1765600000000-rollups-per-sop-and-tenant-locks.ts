import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Written out here on purpose (no import from the libraries or from the earlier migration): a migration must
 * mean the same forever. The counters and their per-task expressions are those of Dashboards1765238400000.
 */

const DONE_MINUTE_BOUNDS = [5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200];
const bucketCols = Array.from({ length: DONE_MINUTE_BOUNDS.length + 1 }, (_, i) => `dm${String(i).padStart(2, '0')}`);

const COUNTERS: [string, string, string][] = [
  ['created', 'int', 's'],
  ['pending', 'int', `CASE WHEN f.status = 'pending' THEN s ELSE 0 END`],
  ['done', 'int', `CASE WHEN f.status = 'done' THEN s ELSE 0 END`],
  ['done_on_time', 'int', `CASE WHEN f.status = 'done' AND f.finished_at <= f.due_until THEN s ELSE 0 END`],
  ['skipped', 'int', `CASE WHEN f.status = 'skipped' THEN s ELSE 0 END`],
  ['expired', 'int', `CASE WHEN f.status = 'expired' THEN s ELSE 0 END`],
  ['cancelled', 'int', `CASE WHEN f.status = 'cancelled' THEN s ELSE 0 END`],
  ['responded', 'int', `CASE WHEN f.responses > 0 THEN s ELSE 0 END`],
  ['converted', 'int', `CASE WHEN f.purchases > 0 THEN s ELSE 0 END`],
  ['responses', 'int', 's * f.responses'],
  ['purchases', 'int', 's * f.purchases'],
  ['revenue', 'numeric(16, 2)', 's * f.revenue'],
  ['done_minutes', 'bigint', `CASE WHEN f.status = 'done' THEN s * f.mins ELSE 0 END`],
  ...bucketCols.map((c, i): [string, string, string] => [c, 'int', `CASE WHEN f.b = ${i} THEN s ELSE 0 END`]),
];
const counterDdl = COUNTERS.map(([c, type]) => `${c} ${type} NOT NULL DEFAULT 0`).join(',\n        ');

/** The three rollups, in the order a statement upserts them (one order for every writer: no deadlocks on rollup rows). */
const ROLLUPS = [
  { table: 'task_rollups_executor', key: ['executor_id', 'day'] },
  { table: 'task_rollups_sop', key: ['day', 'sop_id', 'sop_version_id', 'step_index', 'variant', 'channel'] },
  { table: 'task_rollups_sop_day', key: ['sop_id', 'day'] },
];

function applySql(source: string): string {
  const facts = `
    SELECT d.s, d.tenant_id, d.executor_id, (d.due_at AT TIME ZONE tn.timezone)::date AS day, d.sop_id, d.sop_version_id,
           d.step_index, d.variant, d.channel, d.status, d.due_until, d.finished_at, d.responses, d.purchases, d.revenue,
           greatest(0, floor(extract(epoch FROM d.finished_at - d.due_at) / 60))::bigint AS mins,
           CASE WHEN d.status = 'done' THEN width_bucket(greatest(0, extract(epoch FROM d.finished_at - d.due_at) / 60),
                ARRAY[${DONE_MINUTE_BOUNDS.join(', ')}]::float8[]) END AS b
      FROM (${source}) d JOIN tenants tn ON tn.id = d.tenant_id`;
  const upsert = ({ table, key }: (typeof ROLLUPS)[number]) => {
    const cols = ['tenant_id', ...key];
    return `INSERT INTO ${table} (${cols.join(', ')}, ${COUNTERS.map(([c]) => c).join(', ')})
      SELECT ${cols.map((c) => `f.${c}`).join(', ')}, ${COUNTERS.map(([, , e]) => `sum(${e})`).join(', ')}
        FROM f GROUP BY ${cols.map((c) => `f.${c}`).join(', ')} ORDER BY ${cols.map((c) => `f.${c}`).join(', ')}
      ON CONFLICT (${cols.join(', ')}) DO UPDATE SET ${COUNTERS.map(([c]) => `${c} = ${table}.${c} + excluded.${c}`).join(', ')}`;
  };
  // One statement per rollup, in ROLLUPS order: within one data-modifying statement the order is not defined.
  return ROLLUPS.map((r) => `WITH f AS MATERIALIZED (${facts}) ${upsert(r)}`).join(';\n');
}

const TRACKED = ['tenant_id', 'executor_id', 'due_at', 'due_until', 'sop_id', 'sop_version_id', 'step_index', 'variant', 'channel',
  'status', 'finished_at', 'responses', 'purchases', 'revenue'];
const changed = `(${TRACKED.map((c) => `o.${c}`).join(', ')}) IS DISTINCT FROM (${TRACKED.map((c) => `n.${c}`).join(', ')})`;

/** The previous definitions (Dashboards1765238400000), for down(). */
function applySqlBefore(source: string): string {
  return applySql(source).split(';\n').slice(0, 2).join(';\n');
}

function triggerFunctions(apply: (source: string) => string): string {
  return `
    CREATE OR REPLACE FUNCTION tasks_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${apply('SELECT 1 AS s, n.* FROM new_rows n')};
      RETURN NULL;
    END $fn$;
    CREATE OR REPLACE FUNCTION tasks_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${apply(`SELECT -1 AS s, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed}
                  UNION ALL SELECT 1 AS s, n.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed}`)};
      RETURN NULL;
    END $fn$;
    CREATE OR REPLACE FUNCTION tasks_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${apply('SELECT -1 AS s, o.* FROM old_rows o')};
      RETURN NULL;
    END $fn$;`;
}

/**
 * Dashboards, faster and per tenant (issue 13):
 * - `task_rollups_sop_day` (tenant, SOP, day): the tenant-wide SOP results read one row per SOP and day
 *   instead of one per SOP, day, version, step, variant and channel;
 * - a per-tenant advisory lock instead of SHARE locks on tasks and responses for a rollup rebuild: every
 *   writer of a task or a response takes its tenant's lock in shared mode (before its row is written, so a
 *   writer never holds a row the rebuild waits for while waiting for the rebuild), the rebuild takes it
 *   exclusively. Other tenants' writes no longer wait for a rebuild.
 */
export class RollupsPerSopAndTenantLocks1765600000000 implements MigrationInterface {
  name = 'RollupsPerSopAndTenantLocks1765600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE task_rollups_sop_day (
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL,
        day date NOT NULL,
        ${counterDdl},
        CONSTRAINT task_rollups_sop_day_key PRIMARY KEY (tenant_id, sop_id, day)
      );
      -- the tenant-wide list reads a tenant's days whatever the SOP
      CREATE INDEX task_rollups_sop_day_day_idx ON task_rollups_sop_day (tenant_id, day);
      INSERT INTO task_rollups_sop_day (tenant_id, sop_id, day, ${COUNTERS.map(([c]) => c).join(', ')})
      SELECT tenant_id, sop_id, day, ${COUNTERS.map(([c]) => `sum(${c})`).join(', ')}
        FROM task_rollups_sop GROUP BY tenant_id, sop_id, day;
      ${triggerFunctions(applySql)}

      -- advisory lock (386229: the class of these locks, hash of the tenant id), fired before any other row trigger
      -- (triggers fire in name order: before responses_attribute, which must see the rebuilt tasks)
      CREATE FUNCTION rollups_tenant_share_lock() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(386229, hashtext(CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END::text));
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END $fn$;
      CREATE TRIGGER lock_tenant_rollups BEFORE INSERT OR UPDATE OR DELETE ON tasks FOR EACH ROW EXECUTE FUNCTION rollups_tenant_share_lock();
      CREATE TRIGGER lock_tenant_rollups BEFORE INSERT OR UPDATE OR DELETE ON responses FOR EACH ROW EXECUTE FUNCTION rollups_tenant_share_lock();
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TRIGGER lock_tenant_rollups ON responses; DROP TRIGGER lock_tenant_rollups ON tasks;
      DROP FUNCTION rollups_tenant_share_lock();
      ${triggerFunctions(applySqlBefore)}
      DROP TABLE task_rollups_sop_day;
    `);
  }
}
