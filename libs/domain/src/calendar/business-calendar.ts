import { getDayDetail } from 'chinese-days';
import { DateTime } from 'luxon';

/** A tenant's own correction to the shipped calendar: this date is (or is not) a working day. */
export interface CalendarOverride {
  /** ISO date, `YYYY-MM-DD` */
  date: string;
  working: boolean;
  name?: string;
}

export interface DayInfo {
  date: string;
  working: boolean;
  /** Holiday or make-up working day name; empty for an ordinary weekday or weekend. */
  name: string;
  source: 'tenant' | 'cn' | 'weekend-rule';
}

/** Years the shipped mainland-China data (the `chinese-days` package) covers; outside them, only weekends rest. */
export const CN_CALENDAR_YEARS = { first: 2004, last: 2026 } as const;

/**
 * Working days: a tenant's overrides first, then the official mainland-China schedule (public holidays
 * and make-up working days) shipped with the `chinese-days` package, then Monday-to-Friday.
 */
export class BusinessCalendar {
  private readonly overrides: Map<string, CalendarOverride>;
  private readonly known = new Map<string, DayInfo>();

  constructor(overrides: readonly CalendarOverride[] = []) {
    this.overrides = new Map(overrides.map((o) => [o.date, o]));
  }

  day(date: string): DayInfo {
    let info = this.known.get(date);
    if (!info) this.known.set(date, (info = this.lookUp(date)));
    return info;
  }

  private lookUp(date: string): DayInfo {
    const own = this.overrides.get(date);
    if (own) return { date, working: own.working, name: own.name ?? '', source: 'tenant' };
    const year = Number(date.slice(0, 4));
    if (year >= CN_CALENDAR_YEARS.first && year <= CN_CALENDAR_YEARS.last) {
      const d = getDayDetail(date);
      const official = d.name.split(',')[0]; // e.g. "National Day,国庆节,3" or a weekday's English name
      const weekend = /^(Saturday|Sunday)$/.test(official);
      const plain = weekend || /^(Monday|Tuesday|Wednesday|Thursday|Friday)$/.test(official);
      const name = plain ? '' : d.name.split(',').slice(0, 2).join(' / ');
      const makeUp = !plain && d.work; // a weekend worked in exchange for a longer holiday
      return { date, working: d.work, name: makeUp ? `${name} (make-up working day 调休上班)` : name, source: 'cn' };
    }
    const weekday = DateTime.fromISO(date, { zone: 'UTC' }).weekday;
    return { date, working: weekday <= 5, name: '', source: 'weekend-rule' };
  }

  isWorkingDay(date: string): boolean {
    return this.day(date).working;
  }

  /** The date itself when it is a working day, else the next one (looks at most a year ahead). */
  onOrAfter(date: string): string {
    let d = DateTime.fromISO(date, { zone: 'UTC' });
    for (let i = 0; i < 366; i++, d = d.plus({ days: 1 })) {
      const iso = d.toISODate()!;
      if (this.isWorkingDay(iso)) return iso;
    }
    throw new Error(`no working day within a year of ${date}: check the calendar overrides`);
  }
}
