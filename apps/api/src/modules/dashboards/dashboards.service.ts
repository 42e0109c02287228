import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  BUCKET_COLUMNS, type Counters, type Measures, addCounters, change, measures, probabilityBest, wilson, zeroCounters,
} from '@sop/domain';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import { managedTeamIdsArraySql, teamManagedWhere } from '../../common/access/managed';
import { seesWholeOrganization } from '../../common/access/roles';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import type { SopDto } from '../sops/sops.dto';
import { SopsService } from '../sops/sops.service';
import type {
  ChangeDto, Cut, CutDto, CutQuery, EmployeeRowDto, EmployeesDto, EmployeesQuery, ExitDto, FunnelStepDto, Granularity, Lang, MyWeekDto,
  RangeDto, RangeQuery, SopResultDto, SopResultsDto, StepVariantsDto, TeamDashboardDto, TeamQuery, TrendPointDto, WeekQuery,
} from './dashboards.dto';
import { DASHBOARDS_ERRORS } from './dashboards.errors';
import { preparedQuery } from '@sop/db';

/** Rollup counter columns, summed (float8 so that node-pg answers numbers). */
const COLUMNS = ['created', 'pending', 'done', 'done_on_time', 'skipped', 'expired', 'cancelled', 'responded', 'converted', 'responses',
  'purchases', 'revenue', 'done_minutes', ...BUCKET_COLUMNS];
const SUMS = COLUMNS.map((c) => `coalesce(sum(r.${c}), 0)::float8 AS ${c}`).join(', ');

type SumRow = Record<string, number>;
const countersOf = (r: SumRow): Counters => ({
  created: r.created, pending: r.pending, done: r.done, doneOnTime: r.done_on_time, skipped: r.skipped, expired: r.expired,
  cancelled: r.cancelled, responded: r.responded, converted: r.converted, responses: r.responses, purchases: r.purchases,
  revenue: Math.round(r.revenue * 100) / 100, doneMinutes: r.done_minutes, histogram: BUCKET_COLUMNS.map((c) => r[c]),
});
const sum = (rows: SumRow[]) => rows.reduce((acc, r) => addCounters(acc, countersOf(r)), zeroCounters());

const changeOf = (now: Measures, before: Measures): ChangeDto => ({
  completionRate: change(now.completionRate, before.completionRate), onTimeRate: change(now.onTimeRate, before.onTimeRate),
  responseRate: change(now.responseRate, before.responseRate), conversionRate: change(now.conversionRate, before.conversionRate),
  done: now.done - before.done, overdueNow: null,
});

/** The period asked for, in the organization's zone, and the one before it. */
export interface Range {
  zone: string;
  from: string;
  to: string;
  prevFrom: string;
  prevTo: string;
  /** instants bounding the days: [fromTs, toTs) and [prevFromTs, fromTs) */
  fromTs: Date;
  toTs: Date;
  prevFromTs: Date;
  granularity: Granularity;
}

/**
 * A day asked for, checked: a real date between 1900 and 2200 (the queries also read the period before it, and
 * far dates leave Postgres's date range: 500s the fuzz pass and a review found).
 */
function dayIn(value: string, zone: string | undefined, field: string): DateTime {
  const d = DateTime.fromISO(value, zone ? { zone } : {});
  if (!d.isValid) throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, field, 'is not a date');
  if (d.year < 1900 || d.year > 2200) throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, field, 'must be between 1900 and 2200');
  return d;
}

/** The period asked for (default: the 30 days up to today) in `zone`, checked: at most `maxDays` days. */
function rangeIn(zone: string, q: RangeQuery, maxDays = 366): Range {
  const today = DateTime.now().setZone(zone).startOf('day');
  const to = q.to ? dayIn(q.to, zone, 'to') : today;
  const from = q.from ? dayIn(q.from, zone, 'from') : to.minus({ days: 29 });
  const days = Math.round(to.diff(from, 'days').days) + 1;
  if (days < 1) throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, 'to', 'must be on or after from');
  if (days > maxDays) throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, 'to', `must be at most ${maxDays} days after from`);
  const prevFrom = from.minus({ days });
  return {
    zone, from: from.toISODate()!, to: to.toISODate()!, prevFrom: prevFrom.toISODate()!, prevTo: from.minus({ days: 1 }).toISODate()!,
    fromTs: from.toJSDate(), toTs: to.plus({ days: 1 }).toJSDate(), prevFromTs: prevFrom.toJSDate(), granularity: q.granularity ?? 'day',
  };
}

const rangeDto = (r: Range): RangeDto => ({ from: r.from, to: r.to, previousFrom: r.prevFrom, previousTo: r.prevTo, zone: r.zone, granularity: r.granularity });

/** Pending tasks with the window closed, by key: `now` all of them, `cur` and `prev` those whose window opened in the period or the one before. */
interface Overdue { now: number; cur: number; prev: number }

interface OverdueCell { executor_id: string | null; team_id: string | null; day: string; n: number }

/** now: every overdue task of the cells; cur and prev: those whose window opened in the period or the one before. */
function perDay(cells: { day: string; n: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of cells) out.set(c.day, (out.get(c.day) ?? 0) + c.n);
  return out;
}

function fold(cells: OverdueCell[], range: Range): Overdue {
  const out = { now: 0, cur: 0, prev: 0 };
  for (const c of cells) {
    out.now += c.n;
    if (c.day >= range.from && c.day <= range.to) out.cur += c.n;
    else if (c.day >= range.prevFrom && c.day <= range.prevTo) out.prev += c.n;
  }
  return out;
}

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

/**
 * The teams a dashboard shows (null: all of the organization's): a manager's own teams, or the one asked for; 403
 * for a team the manager does not manage, 404 for a team that does not exist. `managed` and `team_exists` come
 * from the dashboard's own statement (one round trip).
 */
function teamScope(manager: boolean, row: { managed: string[] | null; team_exists: boolean | null }, teamId: string | undefined): string[] | null {
  if (manager) {
    const managed = row.managed ?? [];
    if (teamId && !managed.includes(teamId)) throw fail(DASHBOARDS_ERRORS.TEAM_NOT_MANAGED);
    return teamId ? [teamId] : managed;
  }
  if (teamId && !row.team_exists) throw notFound('team', teamId);
  return teamId ? [teamId] : null;
}

const TEAM_CUTS: Cut[] = ['team', 'employee'];
const SOP_CUTS: Cut[] = ['sop', 'version', 'step', 'variant', 'channel'];

/**
 * Dashboards over the rollups (docs/dashboards.md): every figure is a sum of rollup rows of the period, plus
 * one live count of overdue tasks (pending, window closed), which stays small because tasks expire a grace
 * period after their window. Who sees what: admins and ops the tenant, managers the teams they manage,
 * employees their own week.
 */
@Injectable()
export class DashboardsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sops: SopsService,
  ) {}

  /** A dashboard's statements sum some thirty columns: planning them on every request cost more than running them (measured by the bench). */
  private prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    return preparedQuery<T>(this.db, `dashboards.${name}`, text, values);
  }

  async range(tenantId: string, q: RangeQuery): Promise<Range> {
    const [{ timezone }] = await this.db.query(`SELECT timezone FROM tenants WHERE id = $1`, [tenantId]);
    return rangeIn(timezone, q);
  }

  /**
   * The period and the teams the caller may see (null: all of the tenant's) in one round trip; 403 for a team
   * a manager does not manage, 404 for a team that does not exist.
   */
  private async scoped(caller: Principal, q: RangeQuery & { teamId?: string }): Promise<{ range: Range; scope: string[] | null }> {
    const manager = !seesWholeOrganization(caller); // scoped to the teams they manage
    if (manager && !caller.userId) throw fail(DASHBOARDS_ERRORS.DASHBOARD_NEEDS_A_USER);
    const [row] = await this.prepared<{ timezone: string; managed: string[] | null; team_exists: boolean | null }>('scope',
      `SELECT tn.timezone,
              CASE WHEN $2::uuid IS NULL THEN NULL ELSE ${managedTeamIdsArraySql('$1', '$2')} END AS managed,
              CASE WHEN $3::uuid IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $3) END AS team_exists
         FROM tenants tn WHERE tn.id = $1`,
      [caller.tenantId, manager ? caller.userId : null, q.teamId ?? null]);
    return { range: rangeIn(row.timezone, q), scope: teamScope(manager, row, q.teamId) };
  }

  /**
   * One statement for a team dashboard: the period in the organization's zone, the teams the caller may see and
   * the data `parts` (named JSON arrays over the CTE `scope` of team ids and `rng`: from_d, to_d, prev_from, ok),
   * in one round trip instead of a scope query and then the data queries (each round trip costs a loaded
   * machine a wake-up of Postgres and of the API; measured by the bench). Checked as `scoped` does.
   */
  private async scopedParts<P extends string>(
    caller: Principal, q: RangeQuery & { teamId?: string }, name: string, partsOf: (wholeTenant: boolean) => Record<P, string>,
  ): Promise<{ range: Range; scope: string[] | null; parts: Record<P, unknown[]> }> {
    const manager = !seesWholeOrganization(caller); // scoped to the teams they manage
    const parts = partsOf(!manager && !q.teamId);
    if (manager && !caller.userId) throw fail(DASHBOARDS_ERRORS.DASHBOARD_NEEDS_A_USER);
    for (const field of ['from', 'to'] as const) if (q[field]) dayIn(q[field]!, undefined, field);
    if (q.from && q.to && DateTime.fromISO(q.to).diff(DateTime.fromISO(q.from), 'days').days + 1 > 366) {
      throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, 'to', 'must be at most 366 days after from');
    }
    // one statement per shape (manager or not, one team or not): a generic plan must not hinge on an OR over parameters
    const shape = `${manager ? 'manager' : 'all'}-${q.teamId ? 'team' : 'teams'}`;
    const teams = [manager ? teamManagedWhere('t', '$1', '$2::uuid') : 't.tenant_id = $1 AND $2::uuid IS NULL', q.teamId ? 't.id = $3::uuid' : '$3::uuid IS NULL'].join(' AND ');
    const [row] = await this.prepared<{ zone: string; from_d: string; to_d: string; managed: string[] | null; team_exists: boolean } & Record<P, unknown[]>>(
      `${name}-${shape}`,
      `WITH tn AS (SELECT timezone AS zone, (now() AT TIME ZONE timezone)::date AS today FROM tenants WHERE id = $1),
            rng AS (SELECT tn.zone, f.d AS from_d, t.d AS to_d, f.d - (t.d - f.d + 1) AS prev_from, (t.d - f.d + 1) BETWEEN 1 AND 366 AS ok
                      FROM tn CROSS JOIN LATERAL (SELECT coalesce($5::date, tn.today) AS d) t CROSS JOIN LATERAL (SELECT coalesce($4::date, t.d - 29) AS d) f),
            scope AS (SELECT t.id FROM teams t WHERE ${teams})
       SELECT rng.zone, rng.from_d::text AS from_d, rng.to_d::text AS to_d, EXISTS (SELECT 1 FROM scope) AS team_exists,
              CASE WHEN $2::uuid IS NULL THEN NULL ELSE ${managedTeamIdsArraySql('$1', '$2')} END AS managed,
              ${Object.entries(parts).map(([part, sql]) => `(SELECT coalesce(json_agg(x), '[]') FROM (${sql}) x) AS "${part}"`).join(',\n              ')}
         FROM rng`,
      [caller.tenantId, manager ? caller.userId : null, q.teamId ?? null, q.from ?? null, q.to ?? null]);
    const range = rangeIn(row.zone, { ...q, from: row.from_d, to: row.to_d });
    const out = Object.fromEntries(Object.keys(parts).map((part) => [part, row[part as P]])) as unknown as Record<P, unknown[]>;
    return { range, scope: teamScope(manager, row, q.teamId), parts: out };
  }

  /** Trend points for every day or week of the period, zeros where nothing happened. */
  private trend(range: Range, rows: (SumRow & { day: string })[], overdue: Map<string, number> = new Map()): TrendPointDto[] {
    const key = (day: string) => (range.granularity === 'week' ? DateTime.fromISO(day).startOf('week').toISODate()! : day);
    const points = new Map<string, Counters>();
    for (let d = DateTime.fromISO(range.from); d.toISODate()! <= range.to; d = d.plus({ days: 1 })) points.set(key(d.toISODate()!), zeroCounters());
    for (const r of rows) {
      if (r.day < range.from || r.day > range.to) continue;
      const k = key(r.day);
      points.set(k, addCounters(points.get(k) ?? zeroCounters(), countersOf(r)));
    }
    const overdueBy = new Map<string, number>();
    for (const [day, n] of overdue) overdueBy.set(key(day), (overdueBy.get(key(day)) ?? 0) + n);
    return [...points].map(([period, c]) => ({ period, measures: measures(c, overdueBy.get(period) ?? 0, null) }));
  }

  async teams(caller: Principal, q: TeamQuery): Promise<TeamDashboardDto> {
    const { range, parts } = await this.scopedParts(caller, q, 'teams', (wholeTenant) => ({
      teams: `SELECT t.id, t.name, t.manager_id, (SELECT count(*)::int FROM users u WHERE u.team_id = t.id AND u.disabled_at IS NULL) AS members
                FROM teams t WHERE t.id IN (SELECT id FROM scope) ORDER BY t.name, t.id`,
      rows: `SELECT u.team_id, r.day::text AS day, ${SUMS}
               FROM rng CROSS JOIN users u JOIN task_rollups_executor r ON r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN rng.prev_from AND rng.to_d
              WHERE rng.ok AND u.tenant_id = $1 AND u.team_id IN (SELECT id FROM scope)
              GROUP BY u.team_id, r.day`,
      cells: overdueOfScope(wholeTenant),
    }));
    const teams = parts.teams as { id: string; name: string; manager_id: string | null; members: number }[];
    const rows = parts.rows as (SumRow & { team_id: string; day: string })[];
    const cells = parts.cells as OverdueCell[];
    const shown = new Set(teams.map((t) => t.id));
    const inCur = (r: { day: string }) => r.day >= range.from;
    const cards = teams.map((t) => {
      const mine = rows.filter((r) => r.team_id === t.id);
      const o = fold(cells.filter((c) => c.team_id === t.id), range);
      const current = measures(sum(mine.filter(inCur)), o.cur, o.now);
      const previous = measures(sum(mine.filter((r) => !inCur(r))), o.prev, null);
      return { teamId: t.id, teamName: t.name, managerId: t.manager_id, members: t.members, current, previous, change: changeOf(current, previous) };
    });
    const ours = cells.filter((c) => c.team_id !== null && shown.has(c.team_id));
    const all = fold(ours, range);
    const current = measures(sum(rows.filter(inCur)), all.cur, all.now);
    const previous = measures(sum(rows.filter((r) => !inCur(r))), all.prev, null);
    return {
      range: rangeDto(range), teams: cards, current, previous, change: changeOf(current, previous),
      trend: this.trend(range, rows, perDay(ours)),
    };
  }

  async employees(caller: Principal, q: EmployeesQuery): Promise<EmployeesDto> {
    const { range, parts } = await this.scopedParts(caller, q, 'employees', (wholeTenant) => ({
      rows: `SELECT u.id, u.name, u.role, u.team_id, tm.name AS team_name, ${SUMS}
               FROM rng CROSS JOIN users u LEFT JOIN teams tm ON tm.id = u.team_id
               LEFT JOIN task_rollups_executor r ON rng.ok AND r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN rng.from_d AND rng.to_d
              WHERE u.tenant_id = $1 ${wholeTenant ? '' : 'AND u.team_id IN (SELECT id FROM scope)'}
              GROUP BY u.id, tm.name
             HAVING (u.role IN ('employee', 'manager') AND u.disabled_at IS NULL) OR count(r.day) > 0`,
      overdue: overdueOfScope(wholeTenant),
    }));
    const rows = parts.rows as (SumRow & { id: string; name: string; role: string; team_id: string | null; team_name: string | null })[];
    const overdue = parts.overdue as OverdueCell[];
    const cellsOf = new Map<string | null, OverdueCell[]>();
    for (const c of overdue) cellsOf.set(c.executor_id, [...(cellsOf.get(c.executor_id) ?? []), c]);
    const items: EmployeeRowDto[] = rows.map((r) => {
      const o = fold(cellsOf.get(r.id) ?? [], range);
      return { userId: r.id, name: r.name, role: r.role, teamId: r.team_id, teamName: r.team_name, ...measures(countersOf(r), o.cur, o.now) };
    });
    const dir = q.order === 'asc' ? 1 : -1;
    const sort = q.sort ?? 'overdueNow';
    items.sort((a, b) => {
      const x = a[sort];
      const y = b[sort];
      if (x === y) return a.name.localeCompare(b.name);
      if (x === null) return 1; // unknown last, either way
      if (y === null) return -1;
      return (typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number)) * dir;
    });
    return { range: rangeDto(range), items };
  }

  async myWeek(caller: Principal, q: WeekQuery): Promise<MyWeekDto> {
    if (!caller.userId) throw fail(DASHBOARDS_ERRORS.DASHBOARD_NEEDS_A_USER);
    const [{ timezone: zone }] = await this.db.query(`SELECT timezone FROM tenants WHERE id = $1`, [caller.tenantId]);
    const day = q.week ? dayIn(q.week, zone, 'week') : DateTime.now().setZone(zone);
    const monday = day.startOf('week');
    const range = rangeIn(zone, { from: monday.toISODate()!, to: monday.plus({ days: 6 }).toISODate()!, granularity: 'day' });
    const [rows, [o]] = await Promise.all([
      this.db.query(
        `SELECT r.day::text AS day, ${SUMS} FROM task_rollups_executor r
          WHERE r.tenant_id = $1 AND r.executor_id = $2 AND r.day BETWEEN $3::date AND $4::date GROUP BY r.day`,
        [caller.tenantId, caller.userId, range.prevFrom, range.to]) as Promise<(SumRow & { day: string })[]>,
      this.db.query(
        `SELECT count(*)::int AS now, count(*) FILTER (WHERE due_at >= $3 AND due_at < $4)::int AS cur,
                count(*) FILTER (WHERE due_at >= $5 AND due_at < $3)::int AS prev
           FROM tasks WHERE tenant_id = $1 AND executor_id = $2 AND status = 'pending' AND due_until < now()`,
        [caller.tenantId, caller.userId, range.fromTs, range.toTs, range.prevFromTs]) as Promise<Overdue[]>,
    ]);
    const current = measures(sum(rows.filter((r) => r.day >= range.from)), o.cur, o.now);
    const previous = measures(sum(rows.filter((r) => r.day < range.from)), o.prev, null);
    const days = Array.from({ length: 7 }, (_, i) => {
      const d = monday.plus({ days: i }).toISODate()!;
      const c = sum(rows.filter((r) => r.day === d));
      return { day: d, created: c.created, done: c.done, doneOnTime: c.doneOnTime, responded: c.responded };
    });
    return { range: rangeDto(range), current, previous, change: changeOf(current, previous), days };
  }

  async sopResults(caller: Principal, q: RangeQuery): Promise<SopResultsDto> {
    const range = await this.range(caller.tenantId, q);
    const [rows, overdue] = await Promise.all([
      // one rollup row per SOP and day (not per version, step, variant and channel); summed per SOP first, named after
      this.prepared<SumRow & { sop_id: string; name: string; kind: string; status: string }>('sop-list',
        `WITH a AS (SELECT r.sop_id, ${SUMS} FROM task_rollups_sop_day r WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date GROUP BY r.sop_id)
         SELECT a.*, s.name, s.kind, s.status FROM a JOIN sops s ON s.id = a.sop_id`,
        [caller.tenantId, range.from, range.to]),
      this.db.query(
        `SELECT sop_id, count(*)::int AS now, count(*) FILTER (WHERE due_at >= $2 AND due_at < $3)::int AS cur
           FROM tasks WHERE tenant_id = $1 AND status = 'pending' AND due_until < now() GROUP BY sop_id`,
        [caller.tenantId, range.fromTs, range.toTs]) as Promise<{ sop_id: string; now: number; cur: number }[]>,
    ]);
    const overdueOf = new Map(overdue.map((o) => [o.sop_id, o]));
    const items = rows.map((r) => {
      const o = overdueOf.get(r.sop_id);
      return { sopId: r.sop_id, name: r.name, kind: r.kind, status: r.status, ...measures(countersOf(r), o?.cur ?? 0, o?.now ?? 0) };
    });
    items.sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
    return { range: rangeDto(range), items };
  }

  async sopResult(caller: Principal, sopId: string, q: RangeQuery): Promise<SopResultDto> {
    const range = await this.range(caller.tenantId, q);
    const [sop] = await this.db.query(
      `SELECT s.id, s.name, s.kind, s.status, s.current_version, coalesce(v.definition, s.definition) AS definition
         FROM sops s LEFT JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE s.tenant_id = $1 AND s.id = $2`, [caller.tenantId, sopId]);
    if (!sop) throw notFound('sop', sopId);
    const steps: { name: string; content: { variants?: { name: string }[] } }[] = sop.definition.steps ?? [];
    const [rows, [o], overdueDays, exitRows] = await Promise.all([
      this.db.query(
        `SELECT r.step_index, r.variant, r.day::text AS day, ${SUMS} FROM task_rollups_sop r
          WHERE r.tenant_id = $1 AND r.sop_id = $2 AND r.day BETWEEN $3::date AND $4::date GROUP BY 1, 2, 3`,
        [caller.tenantId, sopId, range.prevFrom, range.to]) as Promise<(SumRow & { step_index: number; variant: string | null; day: string })[]>,
      this.db.query(
        `SELECT count(*)::int AS now, count(*) FILTER (WHERE due_at >= $3 AND due_at < $4)::int AS cur,
                count(*) FILTER (WHERE due_at >= $5 AND due_at < $3)::int AS prev
           FROM tasks WHERE sop_id = $2 AND tenant_id = $1 AND status = 'pending' AND due_until < now()`,
        [caller.tenantId, sopId, range.fromTs, range.toTs, range.prevFromTs]) as Promise<Overdue[]>,
      this.db.query(
        `SELECT (due_at AT TIME ZONE $5)::date::text AS day, count(*)::int AS n
           FROM tasks WHERE sop_id = $2 AND tenant_id = $1 AND status = 'pending' AND due_until < now() AND due_at >= $3 AND due_at < $4 GROUP BY 1`,
        [caller.tenantId, sopId, range.fromTs, range.toTs, range.zone]) as Promise<{ day: string; n: number }[]>,
      this.db.query(
        `SELECT coalesce(close_reason, 'unknown') AS reason, next_step AS "stepIndex", count(*)::int AS count
           FROM enrollments WHERE sop_id = $2 AND tenant_id = $1 AND status = 'exited' AND closed_at >= $3 AND closed_at < $4
          GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
        [caller.tenantId, sopId, range.fromTs, range.toTs]) as Promise<ExitDto[]>,
    ]);
    const cur = rows.filter((r) => r.day >= range.from);
    const current = measures(sum(cur), o.cur, o.now);
    const previous = measures(sum(rows.filter((r) => r.day < range.from)), o.prev, null);
    const stepName = (i: number) => steps[i]?.name ?? `#${i + 1}`;
    const stepCount = Math.max(steps.length, ...cur.map((r) => r.step_index + 1));
    const funnel: FunnelStepDto[] = Array.from({ length: stepCount }, (_, i) => {
      const c = sum(cur.filter((r) => r.step_index === i));
      const left = exitRows.filter((e) => e.stepIndex === i).reduce((s, e) => s + e.count, 0);
      return { stepIndex: i, stepName: stepName(i), entered: c.created + left, created: c.created, done: c.done, responded: c.responded, converted: c.converted };
    });
    const variants: StepVariantsDto[] = [];
    for (let i = 0; i < stepCount; i++) {
      const names = [...new Set(cur.filter((r) => r.step_index === i && r.variant !== null).map((r) => r.variant!))].sort();
      if (!names.length) continue;
      const arms = names.map((v) => sum(cur.filter((r) => r.step_index === i && r.variant === v)));
      const bestResponse = probabilityBest(arms.map((a) => ({ successes: a.responded, trials: a.done })));
      const bestConversion = probabilityBest(arms.map((a) => ({ successes: a.converted, trials: a.done })));
      const offered = new Set((steps[i]?.content.variants ?? []).map((v) => v.name));
      variants.push({
        stepIndex: i, stepName: stepName(i),
        variants: names.map((variant, k) => {
          const a = arms[k];
          const m = measures(a, 0, null);
          return {
            variant, done: a.done, responded: a.responded, responseRate: m.responseRate, responseInterval: wilson(a.responded, a.done),
            probabilityBestResponse: bestResponse[k], converted: a.converted, conversionRate: m.conversionRate,
            conversionInterval: wilson(a.converted, a.done), probabilityBestConversion: bestConversion[k], current: offered.has(variant),
          };
        }),
      });
    }
    return {
      range: rangeDto(range), sop: { id: sop.id, name: sop.name, kind: sop.kind, status: sop.status, currentVersion: sop.current_version },
      current, previous, change: changeOf(current, previous), funnel, exits: exitRows, variants,
      trend: this.trend(range, cur, new Map(overdueDays.map((d) => [d.day, d.n]))),
    };
  }

  async cut(caller: Principal, q: CutQuery): Promise<CutDto> {
    const manager = !seesWholeOrganization(caller); // scoped to the teams they manage
    if (manager && SOP_CUTS.includes(q.by)) throw fail(DASHBOARDS_ERRORS.CUT_NOT_ALLOWED);
    if (manager && q.sopId) throw failAt(DASHBOARDS_ERRORS.CUT_NOT_ALLOWED, 'sopId', 'SOP results are for ops and admins');
    if (q.teamId && SOP_CUTS.includes(q.by)) throw failAt(DASHBOARDS_ERRORS.CUT_FILTER_INVALID, 'teamId', `not with a cut by ${q.by}`);
    if (q.sopId && TEAM_CUTS.includes(q.by)) throw failAt(DASHBOARDS_ERRORS.CUT_FILTER_INVALID, 'sopId', `not with a cut by ${q.by}`);
    if (q.teamId && q.sopId) throw failAt(DASHBOARDS_ERRORS.CUT_FILTER_INVALID, 'sopId', 'not with teamId');
    const { range, scope } = await this.scoped(caller, q);
    if (q.sopId) {
      const [sop] = await this.db.query(`SELECT 1 FROM sops WHERE tenant_id = $1 AND id = $2`, [caller.tenantId, q.sopId]);
      if (!sop) throw notFound('sop', q.sopId);
    }
    const bySop = SOP_CUTS.includes(q.by) || Boolean(q.sopId);
    const zone = range.zone;
    // key and label of a rollup row, and the same key computed from a task (t) for the live overdue count
    const keys: Record<Cut, { key: string; label: string; live: string }> = {
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
    const k = keys[q.by];
    const grouped = `GROUP BY 1${q.by === 'channel' || q.by === 'day' || q.by === 'week' ? ', 2' : ''}`;
    // by SOP, day or week: one rollup row per SOP and day is enough
    const sopRows = q.by === 'sop' || q.by === 'day' || q.by === 'week'
      ? 'task_rollups_sop_day r JOIN sops s ON s.id = r.sop_id'
      : 'task_rollups_sop r JOIN sops s ON s.id = r.sop_id JOIN sop_versions v ON v.id = r.sop_version_id';
    const rollups = bySop
      ? this.db.query(
        `SELECT ${k.key} AS key, ${k.label} AS label, ${SUMS}
           FROM ${sopRows}
          WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date AND ($4::uuid IS NULL OR r.sop_id = $4::uuid)
          ${grouped}`, [caller.tenantId, range.from, range.to, q.sopId ?? null])
      : this.db.query(
        `SELECT ${k.key} AS key, ${k.label} AS label, ${SUMS}
           FROM task_rollups_executor r LEFT JOIN users u ON u.id = r.executor_id LEFT JOIN teams tm ON tm.id = u.team_id
          WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date AND ($4::uuid[] IS NULL OR u.team_id = ANY($4::uuid[]))
          ${grouped}`, [caller.tenantId, range.from, range.to, scope]);
    // The zone ($5) is read by day and week keys only; `$5::text IS NOT NULL` gives it a type in the other cuts.
    const liveParams = [caller.tenantId, scope, range.fromTs, range.toTs, zone, q.sopId ?? null];
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
    const [rows, overdue] = await Promise.all([
      rollups as Promise<(SumRow & { key: string; label: string })[]>, live as Promise<{ key: string; now: number; cur: number }[]>,
    ]);
    const overdueOf = new Map(overdue.map((o) => [o.key, o]));
    const out = rows.map((r) => {
      const o = overdueOf.get(r.key);
      return { key: r.key, label: r.label, ...measures(countersOf(r), o?.cur ?? 0, o?.now ?? 0) };
    });
    out.sort((a, b) => (q.by === 'day' || q.by === 'week' ? a.key.localeCompare(b.key) : b.created - a.created || a.label.localeCompare(b.label)));
    return { range: rangeDto(range), by: q.by, rows: out };
  }

  /** The winner becomes the step's only content: a new definition, published as a new version when the SOP is live. */
  async chooseVariant(caller: Principal, sopId: string, stepIndex: number, variant: string): Promise<SopDto> {
    const [sop] = await this.db.query(`SELECT definition FROM sops WHERE tenant_id = $1 AND id = $2`, [caller.tenantId, sopId]);
    if (!sop) throw notFound('sop', sopId);
    const definition = structuredClone(sop.definition) as { steps: { content: { template: string; variants?: { name: string; template: string }[] } }[] };
    const step = definition.steps?.[stepIndex];
    if (!step) throw fail(DASHBOARDS_ERRORS.STEP_NOT_FOUND, `This SOP has no step ${stepIndex} (it has ${definition.steps?.length ?? 0}).`);
    const winner = step.content.variants?.find((v) => v.name === variant);
    if (!step.content.variants?.length) throw fail(DASHBOARDS_ERRORS.STEP_HAS_NO_VARIANTS);
    if (!winner) {
      throw failAt(DASHBOARDS_ERRORS.VARIANT_NOT_FOUND, 'variant', `must be one of ${step.content.variants.map((v) => v.name).join(', ')}`);
    }
    step.content.template = winner.template;
    delete step.content.variants;
    return this.sops.update(caller, sopId, { definition });
  }

  /** The language of export headers: asked for, else the caller's own (their preferences), else Chinese. */
  async language(caller: Principal, asked?: Lang): Promise<Lang> {
    if (asked) return asked;
    if (!caller.userId) return 'zh';
    const [row] = await this.db.query(`SELECT locale FROM user_notification_settings WHERE tenant_id = $1 AND user_id = $2`, [caller.tenantId, caller.userId]);
    return row?.locale === 'en' ? 'en' : 'zh';
  }
}

