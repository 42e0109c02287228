import { getDayDetail, getSolarDateFromLunar, getSolarTerms } from 'chinese-days';
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
  /**
   * tenant: the tenant's own entry; cn: the published State Council schedule; cn-statutory: a year whose
   * schedule is not in the shipped data yet, with the statutory holidays worked out from the law's rules
   * (make-up working days are decided each year and cannot be); weekend-rule: Monday to Friday.
   */
  source: 'tenant' | 'cn' | 'cn-statutory' | 'weekend-rule';
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
    const statutory = year > CN_CALENDAR_YEARS.last ? statutoryHolidays(year).get(date) : undefined;
    if (statutory) return { date, working: false, name: statutory, source: 'cn-statutory' };
    const weekday = DateTime.fromISO(date, { zone: 'UTC' }).weekday;
    return { date, working: weekday <= 5, name: '', source: year > CN_CALENDAR_YEARS.last ? 'cn-statutory' : 'weekend-rule' };
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

const statutoryYears = new Map<number, Map<string, string>>();

/**
 * The 13 statutory public holidays of mainland China (Regulations on Public Holidays, as revised from
 * 2025): New Year's Day; Spring Festival eve to the 3rd day; Qingming; 1-2 May; Dragon Boat; Mid-Autumn;
 * 1-3 October. Lunar dates and the Qingming solar term come from `chinese-days`.
 */
export function statutoryHolidays(year: number): Map<string, string> {
  let days = statutoryYears.get(year);
  if (days) return days;
  days = new Map<string, string>();
  const add = (date: string, name: string) => days!.set(date, name);
  const lunar = (monthDay: string) => DateTime.fromISO(getSolarDateFromLunar(`${year}-${monthDay}`).date, { zone: 'UTC' });
  add(`${year}-01-01`, "New Year's Day / 元旦");
  const newYear = lunar('01-01');
  for (let d = -1; d <= 2; d++) add(newYear.plus({ days: d }).toISODate()!, 'Spring Festival / 春节');
  const qingming = getSolarTerms(`${year}-04-01`, `${year}-04-10`).find((t) => t.name === '清明');
  if (qingming) add(qingming.date, 'Tomb-sweeping Day / 清明');
  add(`${year}-05-01`, 'Labour Day / 劳动节');
  add(`${year}-05-02`, 'Labour Day / 劳动节');
  add(lunar('05-05').toISODate()!, 'Dragon Boat Festival / 端午节');
  add(lunar('08-15').toISODate()!, 'Mid-autumn Festival / 中秋节');
  for (const d of ['01', '02', '03']) add(`${year}-10-${d}`, 'National Day / 国庆节');
  statutoryYears.set(year, days);
  return days;
}
