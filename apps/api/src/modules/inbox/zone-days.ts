import { DateTime } from 'luxon';

export interface ZoneDay {
  todayStart: Date;
  todayEnd: Date;
}

/**
 * The day `now` falls in, in a time zone, kept per zone until it ends: working it out with luxon on every inbox
 * list was about 5 % of the API's CPU time there. The zones are validated names, so the map stays small.
 */
export class ZoneDays {
  private readonly days = new Map<string, ZoneDay>();

  dayOf(zone: string, now: Date): ZoneDay {
    const kept = this.days.get(zone);
    if (kept && now >= kept.todayStart && now < kept.todayEnd) return kept;
    const start = DateTime.fromJSDate(now, { zone }).startOf('day');
    const day = { todayStart: start.toJSDate(), todayEnd: start.plus({ days: 1 }).toJSDate() };
    this.days.set(zone, day);
    return day;
  }
}
