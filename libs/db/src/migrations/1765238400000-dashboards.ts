import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Everything below is written out here on purpose (no import from the libraries): a migration must mean
 * the same forever, whatever later code does. docs/dashboards.md defines each measure.
 */

/** Upper bounds (minutes) of the histogram of "window start to done" kept in the rollups: dm00 < 5 min … dm15 >= 30 days. */
const DONE_MINUTE_BOUNDS = [5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200];
const BUCKETS = DONE_MINUTE_BOUNDS.length + 1;
const bucketCols = Array.from({ length: BUCKETS }, (_, i) => `dm${String(i).padStart(2, '0')}`);

/** The counters every rollup row carries, with their value for one task (f: its facts, s: +1 or -1). */
const COUNTERS: [string, string, string][] = [
  // [column, type, per-task expression]
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

/** The two rollups: their key columns (beyond tenant) as they are computed from a task's facts. */
const ROLLUPS = [
  { table: 'task_rollups_executor', key: ['executor_id', 'day'] },
  { table: 'task_rollups_sop', key: ['day', 'sop_id', 'sop_version_id', 'step_index', 'variant', 'channel'] },
];

/**
 * The statements that add the tasks of `source` (rows with every tasks column plus `s`: +1 to add, -1 to
 * take away) to both rollups. Rows are upserted in key order, so concurrent statements lock rollup rows in
 * one order and cannot deadlock on them.
 */
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
  // Two statements, executor rollup first: in one statement (a data-modifying CTE) the order of the two upserts is
  // not defined, and two pages locking the same two rows in opposite orders would deadlock.
  return ROLLUPS.map((r) => `WITH f AS MATERIALIZED (${facts}) ${upsert(r)}`).join(';\n');
}

/** What changes a task's place or figures in the rollups (an update of anything else, e.g. a snooze, is skipped). */
const TRACKED = ['tenant_id', 'executor_id', 'due_at', 'due_until', 'sop_id', 'sop_version_id', 'step_index', 'variant', 'channel',
  'status', 'finished_at', 'responses', 'purchases', 'revenue'];
const changed = `(${TRACKED.map((c) => `o.${c}`).join(', ')}) IS DISTINCT FROM (${TRACKED.map((c) => `n.${c}`).join(', ')})`;

/** Responses that count for a task (docs/dashboards.md "response"): a contact's reply, open, purchase, event; an executor's outcome that reports one. */
const COUNTS_AS_RESPONSE = `(r.kind IN ('replied', 'opened', 'bought', 'custom', 'joined_group')
  OR (r.kind = 'outcome' AND r.outcome IN ('replied', 'interested', 'not_interested', 'bought')))`;

/**
 * Dashboards (issue 13): task expiry, response attribution, and rollups of tasks kept by triggers in the
 * same statement as every change of a task, whoever makes it (engine pages, inbox actions, handovers, the
 * expiry sweep, exits, deletions).
 */
export class Dashboards1765238400000 implements MigrationInterface {
  name = 'Dashboards1765238400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- tenant settings: the zone of dashboard days, how long after its window a pending task expires, the attribution window
      ALTER TABLE tenants ADD COLUMN timezone text NOT NULL DEFAULT 'Asia/Shanghai',
        ADD COLUMN task_expiry_grace_hours int NOT NULL DEFAULT 24 CHECK (task_expiry_grace_hours BETWEEN 0 AND 720),
        ADD COLUMN attribution_window_days int NOT NULL DEFAULT 7 CHECK (attribution_window_days BETWEEN 1 AND 90);

      -- what was attributed to a task (kept by the responses triggers below)
      ALTER TABLE tasks ADD COLUMN responses int NOT NULL DEFAULT 0, ADD COLUMN purchases int NOT NULL DEFAULT 0,
        ADD COLUMN revenue numeric(14, 2) NOT NULL DEFAULT 0;
      -- the latest done task of the contact before a response, within the window: where the response counts
      ALTER TABLE responses ADD COLUMN attributed_task_id bigint;
      CREATE INDEX responses_attributed_idx ON responses (attributed_task_id) WHERE attributed_task_id IS NOT NULL;
      CREATE INDEX tasks_contact_done_idx ON tasks (contact_id, finished_at DESC, id DESC) WHERE status = 'done';
      -- SOP results read a SOP's exits by time (exits by reason, and the funnel's "left before the step")
      CREATE INDEX enrollments_sop_exited_idx ON enrollments (sop_id, closed_at) WHERE status = 'exited';
      -- team dashboards start from a team's members
      CREATE INDEX users_team_idx ON users (team_id) WHERE team_id IS NOT NULL;

      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned', 'deferred', 'expired'));
      -- each morning, a manager's digest of yesterday's completion by employee
      ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
        ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('digest', 'due_soon', 'escalation', 'material_opened', 'manager_digest'));

      CREATE TABLE task_rollups_executor (
        tenant_id uuid NOT NULL,
        executor_id uuid,
        day date NOT NULL,
        ${counterDdl},
        CONSTRAINT task_rollups_executor_key UNIQUE NULLS NOT DISTINCT (tenant_id, executor_id, day)
      );
      CREATE TABLE task_rollups_sop (
        tenant_id uuid NOT NULL,
        day date NOT NULL,
        sop_id uuid NOT NULL,
        sop_version_id uuid NOT NULL,
        step_index int NOT NULL,
        variant text,
        channel text NOT NULL,
        ${counterDdl},
        CONSTRAINT task_rollups_sop_key UNIQUE NULLS NOT DISTINCT (tenant_id, day, sop_id, sop_version_id, step_index, variant, channel)
      );
      CREATE INDEX task_rollups_sop_sop_idx ON task_rollups_sop (sop_id, day);
    `);

    // Existing responses find their task, tasks their figures, rollups their rows: then the triggers keep them.
    await db.query(`
      UPDATE responses r SET attributed_task_id = (
        SELECT t.id FROM tasks t JOIN tenants tn ON tn.id = r.tenant_id
         WHERE t.contact_id = r.contact_id AND t.tenant_id = r.tenant_id AND t.status = 'done' AND t.finished_at <= r.occurred_at
           AND t.finished_at > r.occurred_at - make_interval(days => tn.attribution_window_days)
         ORDER BY t.finished_at DESC, t.id DESC LIMIT 1)
       WHERE ${COUNTS_AS_RESPONSE}`);
    await db.query(`
      UPDATE tasks t SET responses = x.n, purchases = x.p, revenue = x.a
        FROM (SELECT attributed_task_id AS id, count(*)::int AS n, count(*) FILTER (WHERE kind = 'bought')::int AS p,
                     coalesce(sum(amount) FILTER (WHERE kind = 'bought'), 0) AS a
                FROM responses WHERE attributed_task_id IS NOT NULL GROUP BY 1) x
       WHERE t.id = x.id`);
    await db.query(applySql('SELECT 1 AS s, t.* FROM tasks t'));

    await db.query(`
      CREATE FUNCTION tasks_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${applySql('SELECT 1 AS s, n.* FROM new_rows n')};
        RETURN NULL;
      END $fn$;
      CREATE FUNCTION tasks_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${applySql(`SELECT -1 AS s, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed}
                    UNION ALL SELECT 1 AS s, n.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed}`)};
        RETURN NULL;
      END $fn$;
      CREATE FUNCTION tasks_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${applySql('SELECT -1 AS s, o.* FROM old_rows o')};
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER tasks_rollup_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_rollup_insert();
      CREATE TRIGGER tasks_rollup_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_rollup_update();
      CREATE TRIGGER tasks_rollup_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_rollup_delete();

      -- a response that counts finds the latest done task of its contact before it, within the tenant's window
      CREATE FUNCTION responses_attribute() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE r responses := NEW;
      BEGIN
        IF NEW.attributed_task_id IS NULL AND ${COUNTS_AS_RESPONSE} THEN
          SELECT t.id INTO NEW.attributed_task_id FROM tasks t
           WHERE t.contact_id = NEW.contact_id AND t.tenant_id = NEW.tenant_id AND t.status = 'done' AND t.finished_at <= NEW.occurred_at
             AND t.finished_at > NEW.occurred_at - make_interval(days => (SELECT attribution_window_days FROM tenants WHERE id = NEW.tenant_id))
           ORDER BY t.finished_at DESC, t.id DESC LIMIT 1;
        END IF;
        RETURN NEW;
      END $fn$;
      CREATE TRIGGER responses_attribute BEFORE INSERT ON responses FOR EACH ROW EXECUTE FUNCTION responses_attribute();

      -- and the task's figures follow (its rollup rows then follow through the tasks trigger)
      CREATE FUNCTION responses_count_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        UPDATE tasks t SET responses = t.responses + x.n, purchases = t.purchases + x.p, revenue = t.revenue + x.a
          FROM (SELECT attributed_task_id AS id, count(*)::int AS n, count(*) FILTER (WHERE kind = 'bought')::int AS p,
                       coalesce(sum(amount) FILTER (WHERE kind = 'bought'), 0) AS a
                  FROM new_rows WHERE attributed_task_id IS NOT NULL GROUP BY 1 ORDER BY 1) x
         WHERE t.id = x.id;
        RETURN NULL;
      END $fn$;
      CREATE FUNCTION responses_count_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        UPDATE tasks t SET responses = t.responses - x.n, purchases = t.purchases - x.p, revenue = t.revenue - x.a
          FROM (SELECT attributed_task_id AS id, count(*)::int AS n, count(*) FILTER (WHERE kind = 'bought')::int AS p,
                       coalesce(sum(amount) FILTER (WHERE kind = 'bought'), 0) AS a
                  FROM old_rows WHERE attributed_task_id IS NOT NULL GROUP BY 1 ORDER BY 1) x
         WHERE t.id = x.id;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER responses_count_insert AFTER INSERT ON responses REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION responses_count_insert();
      CREATE TRIGGER responses_count_delete AFTER DELETE ON responses REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION responses_count_delete();
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TRIGGER responses_count_delete ON responses; DROP TRIGGER responses_count_insert ON responses;
      DROP TRIGGER responses_attribute ON responses;
      DROP TRIGGER tasks_rollup_delete ON tasks; DROP TRIGGER tasks_rollup_update ON tasks; DROP TRIGGER tasks_rollup_insert ON tasks;
      DROP FUNCTION responses_count_delete(), responses_count_insert(), responses_attribute(),
        tasks_rollup_delete(), tasks_rollup_update(), tasks_rollup_insert();
      DROP TABLE task_rollups_sop, task_rollups_executor;
      DELETE FROM task_events WHERE action = 'expired';
      DELETE FROM notifications WHERE kind = 'manager_digest';
      ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
        ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('digest', 'due_soon', 'escalation', 'material_opened'));
      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned', 'deferred'));
      DROP INDEX users_team_idx, enrollments_sop_exited_idx, tasks_contact_done_idx, responses_attributed_idx;
      ALTER TABLE responses DROP COLUMN attributed_task_id;
      ALTER TABLE tasks DROP COLUMN responses, DROP COLUMN purchases, DROP COLUMN revenue;
      ALTER TABLE tenants DROP COLUMN timezone, DROP COLUMN task_expiry_grace_hours, DROP COLUMN attribution_window_days;
    `);
  }
}
