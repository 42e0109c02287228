import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { preparedQuery } from '@sop/db';
import { BUCKET_COLUMNS } from '@sop/domain';
import { DataSource } from 'typeorm';
import { managedTeamIdsArraySql, teamManagedWhere } from '../../common/access/managed';
import type { Cut, ExitDto } from './dashboards.dto';

/** Rollup counter columns, summed (float8 so that node-pg answers numbers). */
const COLUMNS = ['created', 'pending', 'done', 'done_on_time', 'skipped', 'expired', 'cancelled', 'responded', 'converted', 'responses',
  'purchases', 'revenue', 'done_minutes', ...BUCKET_COLUMNS];
const SUMS = COLUMNS.map((c) => `coalesce(sum(r.${c}), 0)::float8 AS ${c}`).join(', ');

/** A row of summed rollup counters, by column name. */
export type SumRow = Record<string, number>;

/** The period a dashboard reads, in the organization's zone: days, and the instants bounding them. */
export interface PeriodBounds {
  zone: string;
  from: string;
  to: string;
  prevFrom: string;
  /** [fromTs, toTs) and [prevFromTs, fromTs) */
  fromTs: Date;
  toTs: Date;
  prevFromTs: Date;
}

/** Pending tasks with the window closed: `now` all of them, `cur` and `prev` those whose window opened in the period or the one before. */
export interface Overdue { now: number; cur: number; prev: number }
export interface OverdueCell { executor_id: string | null; team_id: string | null; day: string; n: number }

/** Who asks for a team dashboard and for which period: `managerId` set for a manager (scoped to the teams they manage). */
export interface ScopeAsk { tenantId: string; managerId: string | null; teamId: string | null; from: string | null; to: string | null }

export interface TeamRow { id: string; name: string; manager_id: string | null; members: number }
export type EmployeeSumRow = SumRow & { id: string; name: string; role: string; team_id: string | null; team_name: string | null };

/**
 * Overdue tasks (pending, window closed) per executor and day of their window, as a part of `scopedParts`: of
 * the scope's members, each read through the executor's open-window index (a team's count never walks the rest
 * of the tenant); or, for the whole tenant, every overdue task (executors without a team too). The set is small
 * because tasks expire.
 */
function overdueOfScope(wholeTenant: boolean): string {
  return wholeTenant
    ? `SELECT t.executor_id, u.team_id, (t.due_at AT TIME ZONE rng.zone)::date::text AS day, count(*)::int AS n
         FROM rng CROSS JOIN tasks t LEFT JOIN users u ON u.id = t.executor_id
        WHERE t.tenant_id = $1 AND t.status = 'pending' AND t.due_until < now() GROUP BY 1, 2, 3`
    : `SELECT u.id AS executor_id, u.team_id, o.day, o.n FROM rng CROSS JOIN users u CROSS JOIN LATERAL (
         SELECT (t.due_at AT TIME ZONE rng.zone)::date::text AS day, count(*)::int AS n FROM tasks t
          WHERE t.tenant_id = $1 AND t.executor_id = u.id AND t.status = 'pending' AND t.due_until < now() GROUP BY 1) o
        WHERE u.tenant_id = $1 AND u.team_id IN (SELECT id FROM scope)`;
}

/** The parts of a team dashboard's statement (over the CTEs `scope` and `rng`; see `scopedParts`). */
const TEAM_PARTS = (wholeTenant: boolean) => ({
  teams: `SELECT t.id, t.name, t.manager_id, (SELECT count(*)::int FROM users u WHERE u.team_id = t.id AND u.disabled_at IS NULL) AS members
            FROM teams t WHERE t.id IN (SELECT id FROM scope) ORDER BY t.name, t.id`,
  rows: `SELECT u.team_id, r.day::text AS day, ${SUMS}
           FROM rng CROSS JOIN users u JOIN task_rollups_executor r ON r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN rng.prev_from AND rng.to_d
          WHERE rng.ok AND u.tenant_id = $1 AND u.team_id IN (SELECT id FROM scope)
          GROUP BY u.team_id, r.day`,
  cells: overdueOfScope(wholeTenant),
});

const EMPLOYEE_PARTS = (wholeTenant: boolean) => ({
  rows: `SELECT u.id, u.name, u.role, u.team_id, tm.name AS team_name, ${SUMS}
           FROM rng CROSS JOIN users u LEFT JOIN teams tm ON tm.id = u.team_id
           LEFT JOIN task_rollups_executor r ON rng.ok AND r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN rng.from_d AND rng.to_d
          WHERE u.tenant_id = $1 ${wholeTenant ? '' : 'AND u.team_id IN (SELECT id FROM scope)'}
          GROUP BY u.id, tm.name
         HAVING (u.role IN ('employee', 'manager') AND u.disabled_at IS NULL) OR count(r.day) > 0`,
  overdue: overdueOfScope(wholeTenant),
});

/** A scoped statement's answer: the period as Postgres resolved it, the scope's checks, and each part's rows. */
export type ScopedRow<P extends string> = { zone: string; from_d: string; to_d: string; managed: string[] | null; team_exists: boolean } & Record<P, unknown[]>;

/** Key and label of a rollup row for each cut, and the same key computed from a task (t) for the live overdue count. */
const CUT_KEYS: Record<Cut, { key: string; label: string; live: string }> = {
  team: { key: `coalesce(u.team_id::text, '')`, label: `coalesce(min(tm.name), '')`, live: `coalesce(u.team_id::text, '')` },
  employee: { key: `coalesce(r.executor_id::text, '')`, label: `coalesce(min(u.name), '')`, live: `coalesce(t.executor_id::text, '')` },
  sop: { key: `r.sop_id::text`, label: `min(s.name)`, live: `t.sop_id::text` },
  version: { key: `r.sop_version_id::text`, label: `min(s.name || ' v' || v.version)`, live: `t.sop_version_id::text` },
  step: { key: `r.sop_id || ':' || r.step_index`, label: `min(s.name || ' · ' || coalesce(v.definition->'steps'->r.step_index->>'name', '#' || (r.step_index + 1)))`,
    live: `t.sop_id || ':' || t.step_index` },
  variant: { key: `r.sop_id || ':' || r.step_index || ':' || coalesce(r.variant, '')`,
    label: `min(s.name || ' · ' || coalesce(v.definition->'steps'->r.step_index->>'name', '#' || (r.step_index + 1)) || ' · ' || coalesce(r.variant, '-'))`,
    live: `t.sop_id || ':' || t.step_index || ':' || coalesce(t.variant, '')` },
  channel: { key: `r.channel`, label: `r.channel`, live: `t.channel` },
  day: { key: `r.day::text`, label: `r.day::text`, live: `(t.due_at AT TIME ZONE $5)::date::text` },
  week: { key: `date_trunc('week', r.day)::date::text`, label: `date_trunc('week', r.day)::date::text`,
    live: `date_trunc('week', (t.due_at AT TIME ZONE $5)::date)::date::text` },
};

/**
 * The dashboards' reads (docs/dashboards.md): sums of rollup rows (`task_rollups_executor`, `task_rollups_sop`,
 * `task_rollups_sop_day`) and live counts of overdue tasks, plus the few rows they are labelled with; the API's one
 * home for that SQL. Every statement is keyed by the caller's organization ($1).
 */
@Injectable()
export class DashboardsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A dashboard's statements sum some thirty columns: planning them on every request cost more than running them (measured by the bench). */
  private prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    return preparedQuery<T>(this.db, `dashboards.${name}`, text, values);
  }

  async timezone(tenantId: string): Promise<string> {
    const [{ timezone }] = await this.db.query(`SELECT timezone FROM tenants WHERE id = $1`, [tenantId]);
    return timezone;
  }

  /** The organization's zone with, for a manager, the teams they manage, and whether the team asked for exists. */
  async scope(tenantId: string, managerId: string | null, teamId: string | null): Promise<{ timezone: string; managed: string[] | null; team_exists: boolean | null }> {
    const [row] = await this.prepared<{ timezone: string; managed: string[] | null; team_exists: boolean | null }>('scope',
      `SELECT tn.timezone,
              CASE WHEN $2::uuid IS NULL THEN NULL ELSE ${managedTeamIdsArraySql('$1', '$2')} END AS managed,
              CASE WHEN $3::uuid IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $3) END AS team_exists
         FROM tenants tn WHERE tn.id = $1`,
      [tenantId, managerId, teamId]);
    return row;
  }

  /** The team dashboard's parts: its teams, their rollup sums per day (the period and the one before) and overdue cells. */
  teamsDashboard(ask: ScopeAsk): Promise<ScopedRow<'teams' | 'rows' | 'cells'>> {
    return this.scopedParts(ask, 'teams', TEAM_PARTS);
  }

  /** Every employee of the scope with the period's rollup sums, and overdue cells. */
  employeesDashboard(ask: ScopeAsk): Promise<ScopedRow<'rows' | 'overdue'>> {
    return this.scopedParts(ask, 'employees', EMPLOYEE_PARTS);
  }

  /**
   * One statement for a team dashboard: the period in the organization's zone, the teams the caller may see and
   * the data `parts` (named JSON arrays over the CTE `scope` of team ids and `rng`: from_d, to_d, prev_from, ok),
   * in one round trip instead of a scope query and then the data queries (each round trip costs a loaded
   * machine a wake-up of Postgres and of the API; measured by the bench).
   */
  private async scopedParts<P extends string>(ask: ScopeAsk, name: string, partsOf: (wholeTenant: boolean) => Record<P, string>): Promise<ScopedRow<P>> {
    const manager = ask.managerId !== null;
    const parts = partsOf(!manager && !ask.teamId);
    // one statement per shape (manager or not, one team or not): a generic plan must not hinge on an OR over parameters
    const shape = `${manager ? 'manager' : 'all'}-${ask.teamId ? 'team' : 'teams'}`;
    const teams = [manager ? teamManagedWhere('t', '$1', '$2::uuid') : 't.tenant_id = $1 AND $2::uuid IS NULL', ask.teamId ? 't.id = $3::uuid' : '$3::uuid IS NULL'].join(' AND ');
    const [row] = await this.prepared<ScopedRow<P>>(
      `${name}-${shape}`,
      `WITH tn AS (SELECT timezone AS zone, (now() AT TIME ZONE timezone)::date AS today FROM tenants WHERE id = $1),
            rng AS (SELECT tn.zone, f.d AS from_d, t.d AS to_d, f.d - (t.d - f.d + 1) AS prev_from, (t.d - f.d + 1) BETWEEN 1 AND 366 AS ok
                      FROM tn CROSS JOIN LATERAL (SELECT coalesce($5::date, tn.today) AS d) t CROSS JOIN LATERAL (SELECT coalesce($4::date, t.d - 29) AS d) f),
            scope AS (SELECT t.id FROM teams t WHERE ${teams})
       SELECT rng.zone, rng.from_d::text AS from_d, rng.to_d::text AS to_d, EXISTS (SELECT 1 FROM scope) AS team_exists,
              CASE WHEN $2::uuid IS NULL THEN NULL ELSE ${managedTeamIdsArraySql('$1', '$2')} END AS managed,
              ${Object.entries(parts).map(([part, sql]) => `(SELECT coalesce(json_agg(x), '[]') FROM (${sql}) x) AS "${part}"`).join(',\n              ')}
         FROM rng`,
      [ask.tenantId, ask.managerId, ask.teamId, ask.from, ask.to]);
    return row;
  }

  /** An employee's rollup sums per day of the week and the one before, and their overdue tasks. */
  week(tenantId: string, userId: string, p: PeriodBounds): Promise<[(SumRow & { day: string })[], Overdue]> {
    return Promise.all([
      this.db.query(
        `SELECT r.day::text AS day, ${SUMS} FROM task_rollups_executor r
          WHERE r.tenant_id = $1 AND r.executor_id = $2 AND r.day BETWEEN $3::date AND $4::date GROUP BY r.day`,
        [tenantId, userId, p.prevFrom, p.to]),
      this.overdue(tenantId, 'executor_id', userId, p),
    ]);
  }

  /** One executor's or one SOP's overdue tasks: all of them, and those whose window opened in the period or the one before. */
  private async overdue(tenantId: string, by: 'executor_id' | 'sop_id', id: string, p: PeriodBounds): Promise<Overdue> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS now, count(*) FILTER (WHERE due_at >= $3 AND due_at < $4)::int AS cur,
              count(*) FILTER (WHERE due_at >= $5 AND due_at < $3)::int AS prev
         FROM tasks WHERE tenant_id = $1 AND ${by} = $2 AND status = 'pending' AND due_until < now()`,
      [tenantId, id, p.fromTs, p.toTs, p.prevFromTs]);
    return row;
  }

  /** Every SOP's rollup sums of the period (one rollup row per SOP and day, summed per SOP first), and overdue tasks per SOP. */
  sopList(tenantId: string, p: PeriodBounds): Promise<[(SumRow & { sop_id: string; name: string; kind: string; status: string })[], { sop_id: string; now: number; cur: number }[]]> {
    return Promise.all([
      this.prepared<SumRow & { sop_id: string; name: string; kind: string; status: string }>('sop-list',
        `WITH a AS (SELECT r.sop_id, ${SUMS} FROM task_rollups_sop_day r WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date GROUP BY r.sop_id)
         SELECT a.*, s.name, s.kind, s.status FROM a JOIN sops s ON s.id = a.sop_id`,
        [tenantId, p.from, p.to]),
      this.db.query(
        `SELECT sop_id, count(*)::int AS now, count(*) FILTER (WHERE due_at >= $2 AND due_at < $3)::int AS cur
           FROM tasks WHERE tenant_id = $1 AND status = 'pending' AND due_until < now() GROUP BY sop_id`,
        [tenantId, p.fromTs, p.toTs]),
    ]);
  }

  /** The SOP with its current version's definition; undefined when the organization has no such SOP. */
  async sopWithDefinition(tenantId: string, sopId: string): Promise<{ id: string; name: string; kind: string; status: string; current_version: number; definition: any } | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any -- a definition as saved
    const [sop] = await this.db.query(
      `SELECT s.id, s.name, s.kind, s.status, s.current_version, coalesce(v.definition, s.definition) AS definition
         FROM sops s LEFT JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE s.tenant_id = $1 AND s.id = $2`, [tenantId, sopId]);
    return sop;
  }

  /** One SOP's results: rollup sums per step, variant and day; its overdue tasks (all, and per day of the period); its exits. */
  sopResult(tenantId: string, sopId: string, p: PeriodBounds): Promise<[
    (SumRow & { step_index: number; variant: string | null; day: string })[], Overdue, { day: string; n: number }[], ExitDto[],
  ]> {
    return Promise.all([
      this.db.query(
        `SELECT r.step_index, r.variant, r.day::text AS day, ${SUMS} FROM task_rollups_sop r
          WHERE r.tenant_id = $1 AND r.sop_id = $2 AND r.day BETWEEN $3::date AND $4::date GROUP BY 1, 2, 3`,
        [tenantId, sopId, p.prevFrom, p.to]),
      this.overdue(tenantId, 'sop_id', sopId, p),
      this.db.query(
        `SELECT (due_at AT TIME ZONE $5)::date::text AS day, count(*)::int AS n
           FROM tasks WHERE sop_id = $2 AND tenant_id = $1 AND status = 'pending' AND due_until < now() AND due_at >= $3 AND due_at < $4 GROUP BY 1`,
        [tenantId, sopId, p.fromTs, p.toTs, p.zone]),
      this.db.query(
        `SELECT coalesce(close_reason, 'unknown') AS reason, next_step AS "stepIndex", count(*)::int AS count
           FROM enrollments WHERE sop_id = $2 AND tenant_id = $1 AND status = 'exited' AND closed_at >= $3 AND closed_at < $4
          GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
        [tenantId, sopId, p.fromTs, p.toTs]),
    ]);
  }

  async sopExists(tenantId: string, sopId: string): Promise<boolean> {
    const [sop] = await this.db.query(`SELECT 1 FROM sops WHERE tenant_id = $1 AND id = $2`, [tenantId, sopId]);
    return Boolean(sop);
  }

  /**
   * A cut's rows: rollup sums of the period by the cut's key (of the scope's teams, null: all; or of one SOP), and
   * the live overdue count by the same key.
   */
  cut(tenantId: string, by: Cut, bySop: boolean, p: PeriodBounds, scope: string[] | null, sopId: string | null): Promise<[
    (SumRow & { key: string; label: string })[], { key: string; now: number; cur: number }[],
  ]> {
    const k = CUT_KEYS[by];
    const grouped = `GROUP BY 1${by === 'channel' || by === 'day' || by === 'week' ? ', 2' : ''}`;
    // by SOP, day or week: one rollup row per SOP and day is enough
    const sopRows = by === 'sop' || by === 'day' || by === 'week'
      ? 'task_rollups_sop_day r JOIN sops s ON s.id = r.sop_id'
      : 'task_rollups_sop r JOIN sops s ON s.id = r.sop_id JOIN sop_versions v ON v.id = r.sop_version_id';
    const rollups = bySop
      ? this.db.query(
        `SELECT ${k.key} AS key, ${k.label} AS label, ${SUMS}
           FROM ${sopRows}
          WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date AND ($4::uuid IS NULL OR r.sop_id = $4::uuid)
          ${grouped}`, [tenantId, p.from, p.to, sopId])
      : this.db.query(
        `SELECT ${k.key} AS key, ${k.label} AS label, ${SUMS}
           FROM task_rollups_executor r LEFT JOIN users u ON u.id = r.executor_id LEFT JOIN teams tm ON tm.id = u.team_id
          WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date AND ($4::uuid[] IS NULL OR u.team_id = ANY($4::uuid[]))
          ${grouped}`, [tenantId, p.from, p.to, scope]);
    // The zone ($5) is read by day and week keys only; `$5::text IS NOT NULL` gives it a type in the other cuts.
    const liveParams = [tenantId, scope, p.fromTs, p.toTs, p.zone, sopId];
    const live = scope
      ? this.db.query( // a team's members, each through the executor's open-window index
        `SELECT o.key, sum(o.now)::int AS now, sum(o.cur)::int AS cur
           FROM users u CROSS JOIN LATERAL (
             SELECT ${k.live} AS key, count(*) AS now, count(*) FILTER (WHERE t.due_at >= $3 AND t.due_at < $4) AS cur
               FROM tasks t WHERE t.tenant_id = $1 AND t.executor_id = u.id AND t.status = 'pending' AND t.due_until < now()
                AND ($6::uuid IS NULL OR t.sop_id = $6::uuid) AND $5::text IS NOT NULL GROUP BY 1) o
          WHERE u.tenant_id = $1 AND u.team_id = ANY($2::uuid[])
          GROUP BY 1`, liveParams)
      : this.db.query(
        `SELECT ${k.live} AS key, count(*)::int AS now, count(*) FILTER (WHERE t.due_at >= $3 AND t.due_at < $4)::int AS cur
           FROM tasks t LEFT JOIN users u ON u.id = t.executor_id
          WHERE t.tenant_id = $1 AND t.status = 'pending' AND t.due_until < now() AND $2::uuid[] IS NULL
            AND ($6::uuid IS NULL OR t.sop_id = $6::uuid) AND $5::text IS NOT NULL
          GROUP BY 1`, liveParams);
    return Promise.all([rollups, live]);
  }

  /** The SOP's own (draft) definition; undefined when the organization has no such SOP. */
  async sopDefinition(tenantId: string, sopId: string): Promise<unknown | undefined> {
    const [sop] = await this.db.query(`SELECT definition FROM sops WHERE tenant_id = $1 AND id = $2`, [tenantId, sopId]);
    return sop?.definition;
  }

  /** The language a user chose for what they receive, if any. */
  async locale(tenantId: string, userId: string): Promise<string | undefined> {
    const [row] = await this.db.query(`SELECT locale FROM user_notification_settings WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
    return row?.locale;
  }
}
