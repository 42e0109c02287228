import { Injectable } from '@nestjs/common';
import {
  BUCKET_COLUMNS, type Counters, type Measures, addCounters, change, measures, probabilityBest, wilson, zeroCounters,
} from '@sop/domain';
import { DateTime } from 'luxon';
import { seesWholeOrganization } from '../../common/access/roles';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import type { SopDto } from '../sops/sops.dto';
import { SopsService } from '../sops/sops.service';
import type {
  ChangeDto, Cut, CutDto, CutQuery, EmployeeRowDto, EmployeesDto, EmployeesQuery, FunnelStepDto, Granularity, Lang, MyWeekDto,
  RangeDto, RangeQuery, SopResultDto, SopResultsDto, StepVariantsDto, TeamDashboardDto, TeamQuery, TrendPointDto, WeekQuery,
} from './dashboards.dto';
import { DASHBOARDS_ERRORS } from './dashboards.errors';
import {
  DashboardsRepository, type EmployeeSumRow, type Overdue, type OverdueCell, type PeriodBounds, type ScopeAsk, type SumRow, type TeamRow,
} from './dashboards.repository';

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
export interface Range extends PeriodBounds {
  prevTo: string;
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
  constructor(private readonly dashboards: DashboardsRepository, private readonly sops: SopsService) {}

  async range(tenantId: string, q: RangeQuery): Promise<Range> {
    return rangeIn(await this.dashboards.timezone(tenantId), q);
  }

  /**
   * The period and the teams the caller may see (null: all of the tenant's) in one round trip; 403 for a team
   * a manager does not manage, 404 for a team that does not exist.
   */
  private async scoped(caller: Principal, q: RangeQuery & { teamId?: string }): Promise<{ range: Range; scope: string[] | null }> {
    const manager = !seesWholeOrganization(caller); // scoped to the teams they manage
    if (manager && !caller.userId) throw fail(DASHBOARDS_ERRORS.DASHBOARD_NEEDS_A_USER);
    const row = await this.dashboards.scope(caller.tenantId, manager ? caller.userId : null, q.teamId ?? null);
    return { range: rangeIn(row.timezone, q), scope: teamScope(manager, row, q.teamId) };
  }

  /**
   * Who asks for a team dashboard, checked as `scoped` checks (the days asked for are read by Postgres in the
   * dashboard's one statement, so they are checked here first); the answer's scope is checked by `scopeOf`.
   */
  private ask(caller: Principal, q: RangeQuery & { teamId?: string }): ScopeAsk {
    const manager = !seesWholeOrganization(caller); // scoped to the teams they manage
    if (manager && !caller.userId) throw fail(DASHBOARDS_ERRORS.DASHBOARD_NEEDS_A_USER);
    for (const field of ['from', 'to'] as const) if (q[field]) dayIn(q[field]!, undefined, field);
    if (q.from && q.to && DateTime.fromISO(q.to).diff(DateTime.fromISO(q.from), 'days').days + 1 > 366) {
      throw failAt(DASHBOARDS_ERRORS.DASHBOARD_RANGE_INVALID, 'to', 'must be at most 366 days after from');
    }
    return { tenantId: caller.tenantId, managerId: manager ? caller.userId : null, teamId: q.teamId ?? null, from: q.from ?? null, to: q.to ?? null };
  }

  /** The period a scoped statement resolved and the teams the caller may see (403 / 404 as `teamScope`). */
  private resolved(ask: ScopeAsk, q: RangeQuery, row: { zone: string; from_d: string; to_d: string; managed: string[] | null; team_exists: boolean }) {
    return { range: rangeIn(row.zone, { ...q, from: row.from_d, to: row.to_d }), scope: teamScope(ask.managerId !== null, row, ask.teamId ?? undefined) };
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
    const ask = this.ask(caller, q);
    const parts = await this.dashboards.teamsDashboard(ask);
    const { range } = this.resolved(ask, q, parts);
    const teams = parts.teams as TeamRow[];
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
    const ask = this.ask(caller, q);
    const parts = await this.dashboards.employeesDashboard(ask);
    const { range } = this.resolved(ask, q, parts);
    const rows = parts.rows as EmployeeSumRow[];
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
    const zone = await this.dashboards.timezone(caller.tenantId);
    const day = q.week ? dayIn(q.week, zone, 'week') : DateTime.now().setZone(zone);
    const monday = day.startOf('week');
    const range = rangeIn(zone, { from: monday.toISODate()!, to: monday.plus({ days: 6 }).toISODate()!, granularity: 'day' });
    const [rows, o] = await this.dashboards.week(caller.tenantId, caller.userId, range);
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
    const [rows, overdue] = await this.dashboards.sopList(caller.tenantId, range);
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
    const sop = await this.dashboards.sopWithDefinition(caller.tenantId, sopId);
    if (!sop) throw notFound('sop', sopId);
    const steps: { name: string; content: { variants?: { name: string }[] } }[] = sop.definition.steps ?? [];
    const [rows, o, overdueDays, exitRows] = await this.dashboards.sopResult(caller.tenantId, sopId, range);
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
    if (q.sopId && !(await this.dashboards.sopExists(caller.tenantId, q.sopId))) throw notFound('sop', q.sopId);
    const bySop = SOP_CUTS.includes(q.by) || Boolean(q.sopId);
    const [rows, overdue] = await this.dashboards.cut(caller.tenantId, q.by, bySop, range, scope, q.sopId ?? null);
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
    const saved = await this.dashboards.sopDefinition(caller.tenantId, sopId);
    if (saved === undefined) throw notFound('sop', sopId);
    const definition = structuredClone(saved) as { steps: { content: { template: string; variants?: { name: string; template: string }[] } }[] };
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
    return (await this.dashboards.locale(caller.tenantId, caller.userId)) === 'en' ? 'en' : 'zh';
  }
}

