import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type BusinessCalendar, occurrencesBetween, type SopDefinition, type SopStep } from '@sop/domain';
import { DayLoad, leastLoaded, loadCalendar, loadPeople, type People, roundRobinPool } from '@sop/engine';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import type { ForecastDayDto, ForecastDto } from './sops.dto';
import { SopsRepository } from './sops.repository';
import { SopsService } from './sops.service';

export const FORECAST_DAYS = 30;

/** Audience size per owner (contact owner or group owner); null: without owner. */
type OwnerCounts = Map<string | null, number>;
type Assign = (step: SopStep, date: string, owners: OwnerCounts) => Map<string | null, number>;

/**
 * Expected tasks per day per executor for the next 30 days, from today's data: current audience,
 * open enrollments and their remaining steps, the calendar and the executor rules. Days are in the
 * SOP's time zone. Future segment entrants cannot be known, so they are not counted.
 */
@Injectable()
export class SopForecastService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sops: SopsService,
    private readonly repository: SopsRepository,
  ) {}

  async forecast(tenantId: string, id: string, now = new Date()): Promise<ForecastDto> {
    const sop = await this.sops.row(this.db, tenantId, id);
    const def = sop.definition;
    const zone = def.timezone;
    const today = DateTime.fromJSDate(now, { zone }).startOf('day');
    const from = today.toISODate()!;
    const to = today.plus({ days: FORECAST_DAYS - 1 }).toISODate()!;
    const calendar = await loadCalendar(this.db, tenantId);
    const audience = await this.audience(tenantId, def);
    const reach = [...audience.values()].reduce((a, b) => a + b, 0);
    const people = await loadPeople(this.db, tenantId);
    // Round robin's pick needs each member's tasks per day, as dispatch counts them.
    const load = await DayLoad.read(this.db, tenantId, [...people.teams.values()].flat(), zone, today.toJSDate(),
      today.plus({ days: FORECAST_DAYS }).toJSDate());
    const tally = new Tally(from, to);
    const assign: Assign = (step, date, owners) => this.assign(step, date, owners, { people, load, zone });

    const add = (step: SopStep, date: string, owners: OwnerCounts) => {
      for (const [executor, n] of assign(step, date, owners)) tally.add(date, executor, n);
    };
    const workday = (date: string) => (def.policies.businessDaysOnly ? calendar.onOrAfter(date) : date);

    let entering = reach;
    if (def.kind === 'journey') {
      entering = def.entry.includeExistingMembers || sop.status === 'draft' ? await this.notEnrolled(tenantId, id, def) : 0;
      const newcomers = def.entry.includeExistingMembers ? await this.notEnrolledByOwner(tenantId, id, def) : new Map();
      def.steps.forEach((step) => add(step, workday(today.plus({ days: step.offsetDays ?? 0 }).toISODate()!), newcomers));
      await this.openEnrollments(id, zone, calendar, def.policies.businessDaysOnly, assign, tally);
    } else if (def.kind === 'recurring' && def.schedule) {
      const anchor = await this.repository.firstPublished(id);
      const days = new Set(occurrencesBetween(def.schedule.rrule, zone, today.toJSDate(), today.plus({ days: FORECAST_DAYS }).toJSDate(), anchor ?? now)
        .map((d) => DateTime.fromJSDate(d, { zone }).toISODate()!)
        .filter((d) => !def.policies.businessDaysOnly || calendar.isWorkingDay(d)));
      for (const date of days) def.steps.forEach((step) => add(step, date, audience));
    } else if (def.kind === 'broadcast' && def.sendAt) {
      const date = DateTime.fromISO(def.sendAt, { zone }).toISODate()!;
      def.steps.forEach((step) => add(step, date, audience));
    }

    const days = await this.withCapacity(tenantId, tally.rows(), { zone, from: today, capacity: def.policies.executorDailyCapacity });
    return {
      reach, entering, from, to, days,
      overCapacityDays: [...new Set(days.filter((d) => d.overCapacity).map((d) => d.date))].sort(),
      basis: 'Current audience and open enrollments with their remaining steps, on the business calendar, in the SOP time zone. '
        + 'Contacts who enter the segment later are not counted. Capacity counts the tasks the executor already has that day from any SOP, '
        + 'as dispatch counts them: pending, done or expired (cancelled tasks free their place).',
    };
  }

  private async audience(tenantId: string, def: SopDefinition): Promise<OwnerCounts> {
    const rows = 'segmentId' in def.audience
      ? await this.repository.segmentMembersByOwner(tenantId, def.audience.segmentId)
      : await this.repository.groupsByOwner(tenantId, def.audience.groups.ownerUserIds ?? null, def.audience.groups.ownerTeamIds ?? null);
    return new Map(rows.map((r) => [r.owner_id, r.n]));
  }

  private async notEnrolled(tenantId: string, sopId: string, def: SopDefinition): Promise<number> {
    if (!('segmentId' in def.audience)) return 0;
    return this.repository.notEnrolled(tenantId, sopId, def.audience.segmentId);
  }

  private async notEnrolledByOwner(tenantId: string, sopId: string, def: SopDefinition): Promise<OwnerCounts> {
    if (!('segmentId' in def.audience)) return new Map();
    const rows = await this.repository.notEnrolledByOwner(tenantId, sopId, def.audience.segmentId);
    return new Map(rows.map((r) => [r.owner_id, r.n]));
  }

  /** Remaining steps of open enrollments, each on its version's offsets. */
  private async openEnrollments(
    sopId: string, zone: string, calendar: BusinessCalendar, businessDays: boolean, assign: Assign, tally: Tally,
  ): Promise<void> {
    const groups = await this.repository.openEnrollmentGroups(sopId, zone);
    for (const g of groups) {
      g.definition.steps.slice(g.next_step).forEach((step) => {
        let date = DateTime.fromISO(g.entered, { zone }).plus({ days: step.offsetDays ?? 0 }).toISODate()!;
        if (businessDays) date = calendar.onOrAfter(date);
        for (const [executor, n] of assign(step, date, new Map([[g.owner_id, g.n]]))) tally.add(date, executor, n);
      });
    }
  }

  /**
   * Who gets the tasks for an audience on `date`: owners themselves, a named user, or for round robin, task
   * by task, the member dispatch would pick (the least loaded that day, executor-load.ts), counting each in.
   */
  private assign(step: SopStep, date: string, owners: OwnerCounts, ctx: { people: People; load: DayLoad; zone: string }): Map<string | null, number> {
    const ex = step.executor;
    const total = [...owners.values()].reduce((a, b) => a + b, 0);
    if (ex.rule === 'contactOwner' || ex.rule === 'groupOwner') return owners;
    if (ex.rule === 'user') return new Map([[ex.userId, total]]);
    const members = roundRobinPool(ex, DateTime.fromISO(date, { zone: ctx.zone }).toJSDate(), ctx.people) ?? [];
    if (!members.length) return new Map([[null, total]]);
    const out = new Map<string | null, number>();
    for (let i = 0; i < total; i++) {
      const id = leastLoaded(members, date, ctx.load)!;
      ctx.load.add(id, date);
      out.set(id, (out.get(id) ?? 0) + 1);
    }
    return out;
  }

  /**
   * Names executors and flags days where this SOP plus what the executor already has that day exceeds the capacity.
   * What they already have is read as dispatch reads it against the capacity (DayLoad, executor-load.ts: pending,
   * done and expired tasks of every SOP; cancelled ones free their place), over the forecast's 30 days.
   */
  private async withCapacity(
    tenantId: string, rows: { date: string; executorId: string | null; tasks: number }[],
    at: { zone: string; from: DateTime; capacity?: number },
  ): Promise<ForecastDayDto[]> {
    const { zone, from, capacity } = at;
    const ids = [...new Set(rows.map((r) => r.executorId).filter((x): x is string => !!x))];
    const people = ids.length ? await this.repository.userNames(tenantId, ids) : [];
    const names = new Map(people.map((p) => [p.id, p.name]));
    const already = ids.length && capacity
      ? await DayLoad.read(this.db, tenantId, ids, zone, from.toJSDate(), from.plus({ days: FORECAST_DAYS }).toJSDate())
      : new DayLoad();
    return rows.map((r) => ({
      ...r,
      executorName: r.executorId ? names.get(r.executorId) ?? null : null,
      overCapacity: capacity !== undefined && r.executorId !== null && r.tasks + already.get(r.executorId, r.date) > capacity,
    }));
  }
}

/** Sums tasks per (day, executor) inside the forecast range. */
class Tally {
  private readonly counts = new Map<string, number>();

  constructor(private readonly from: string, private readonly to: string) {}

  add(date: string, executor: string | null, n: number): void {
    if (n <= 0 || date < this.from || date > this.to) return;
    const key = `${date}|${executor ?? ''}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  rows(): { date: string; executorId: string | null; tasks: number }[] {
    return [...this.counts].map(([key, tasks]) => {
      const [date, executor] = key.split('|');
      return { date, executorId: executor || null, tasks };
    }).sort((a, b) => a.date.localeCompare(b.date) || (a.executorId ?? '').localeCompare(b.executorId ?? ''));
  }
}
