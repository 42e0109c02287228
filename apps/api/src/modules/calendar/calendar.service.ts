import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { validationFailed } from '@sop/domain';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import type { CalendarDayDto, SetCalendarDayDto } from './calendar.dto';
import { CalendarRepository } from './calendar.repository';

const MAX_RANGE_DAYS = 366;

/** The tenant's business calendar: the shipped mainland-China schedule with the tenant's own corrections on top. */
@Injectable()
export class CalendarService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly calendars: CalendarRepository,
  ) {}

  async days(tenantId: string, from: string, to: string): Promise<CalendarDayDto[]> {
    const start = this.date(from, 'from');
    const end = this.date(to, 'to');
    const span = end.diff(start, 'days').days;
    if (span < 0) throw validationFailed([{ path: 'to', problem: 'is before from' }]);
    if (span >= MAX_RANGE_DAYS) throw validationFailed([{ path: 'to', problem: `at most ${MAX_RANGE_DAYS} days after from` }]);
    const calendar = await this.calendars.calendar(tenantId);
    const out: CalendarDayDto[] = [];
    for (let d = start; d <= end; d = d.plus({ days: 1 })) out.push(calendar.day(d.toISODate()!));
    return out;
  }

  /** Sets (or replaces) the tenant's own entry for a day: repeating it changes nothing. */
  async set(tenantId: string, date: string, dto: SetCalendarDayDto): Promise<CalendarDayDto> {
    const iso = this.date(date, 'date').toISODate()!;
    return this.db.transaction(async (m) => {
      await this.calendars.setOverride(m, tenantId, iso, dto.working, dto.name ?? '');
      const calendar = await this.calendars.calendar(tenantId, m);
      try {
        calendar.onOrAfter(iso); // the engine moves due days forward to a working day: there must be one
      } catch {
        throw validationFailed([{ path: 'working', problem: 'would leave no working day in the year from this date' }]);
      }
      return calendar.day(iso);
    });
  }

  /** Drops the tenant's entry: the shipped calendar applies again. */
  async unset(tenantId: string, date: string): Promise<CalendarDayDto> {
    const iso = this.date(date, 'date').toISODate()!;
    await this.calendars.deleteOverride(tenantId, iso);
    return (await this.calendars.calendar(tenantId)).day(iso);
  }

  private date(value: string, path: string): DateTime {
    const d = DateTime.fromISO(value, { zone: 'UTC' });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !d.isValid) throw validationFailed([{ path, problem: 'must be a real date as YYYY-MM-DD' }]);
    return d;
  }
}
