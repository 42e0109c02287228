/**
 * Cadence maths: when a step is due, in whose wall clock, on which days. Pure functions over
 * luxon (time zones), rrule (calendar rules) and the business calendar.
 */
import { DateTime } from 'luxon';
import { Frequency, type RRule, rrulestr } from 'rrule';
import type { BusinessCalendar } from '../calendar/business-calendar';
import type { Window } from './definition';

export interface DueWindow {
  dueAt: Date;
  dueUntil: Date;
}

export interface DayPolicy {
  zone: string;
  calendar: BusinessCalendar;
  businessDaysOnly: boolean;
  quietHours?: Window;
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Whether a minute of the day falls in quiet hours (which may wrap midnight, e.g. 21:00-08:00). */
function isQuiet(minute: number, quiet: Window): boolean {
  const [s, e] = [minutesOf(quiet.start), minutesOf(quiet.end)];
  return s <= e ? minute >= s && minute < e : minute >= s || minute < e;
}

/**
 * The part of a day window outside quiet hours: its start moves past quiet time and its end back
 * before it. Null when nothing is left (validation refuses such SOPs).
 */
export function clipToQuietHours(window: Window, quiet?: Window): { start: number; end: number } | null {
  let [start, end] = [minutesOf(window.start), minutesOf(window.end)];
  if (!quiet) return { start, end };
  while (start < end && isQuiet(start, quiet)) start++;
  while (end > start && isQuiet(end - 1, quiet)) end--;
  return start < end ? { start, end } : null;
}

/**
 * A journey step's due window: `offsetDays` calendar days after the entry day (in the contact's
 * zone), moved to the next working day when the SOP keeps to business days, inside `window` less
 * quiet hours. A window already over when the contact enters moves to the next (working) day;
 * a window already open starts at the entry moment.
 */
export function journeyDueWindow(enteredAt: Date, offsetDays: number, window: Window, policy: DayPolicy): DueWindow {
  const clipped = clipToQuietHours(window, policy.quietHours);
  if (!clipped) throw new Error('the window lies wholly inside quiet hours');
  const entered = DateTime.fromJSDate(enteredAt, { zone: policy.zone });
  let day = entered.startOf('day').plus({ days: offsetDays });
  for (let guard = 0; guard < 400; guard++, day = day.plus({ days: 1 })) {
    if (policy.businessDaysOnly) day = DateTime.fromISO(policy.calendar.onOrAfter(day.toISODate()!), { zone: policy.zone });
    // Wall-clock times: `set`, not `plus`, so 10:00 stays 10:00 on a daylight-saving change day.
    const start = day.set({ hour: Math.floor(clipped.start / 60), minute: clipped.start % 60 });
    const end = day.set({ hour: Math.floor(clipped.end / 60), minute: clipped.end % 60 });
    if (end > entered) return { dueAt: (start > entered ? start : entered).toJSDate(), dueUntil: end.toJSDate() };
  }
  throw new Error('no due day found within a year');
}

// ---- recurring rules ------------------------------------------------------------------------------

/** Calendar rules may repeat at most hourly: a minutely or secondly rule would flood executors. */
export const MIN_RECURRENCE_GAP_MINUTES = 60;
const ALLOWED_FREQS = [Frequency.YEARLY, Frequency.MONTHLY, Frequency.WEEKLY, Frequency.DAILY];

/**
 * rrule works in "floating" time here: each Date's UTC fields are the wall clock in the SOP's zone.
 * That keeps 08:30 at 08:30 across daylight-saving changes; `toInstant` then places it in the zone.
 */
const toFloating = (instant: Date, zone: string): Date => {
  const local = DateTime.fromJSDate(instant, { zone });
  return new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second));
};
const toInstant = (floating: Date, zone: string): Date =>
  DateTime.fromObject({
    year: floating.getUTCFullYear(), month: floating.getUTCMonth() + 1, day: floating.getUTCDate(),
    hour: floating.getUTCHours(), minute: floating.getUTCMinutes(),
  }, { zone }).toJSDate();

export function parseRecurrence(rule: string, anchor: Date, zone: string): RRule {
  const parsed = rrulestr(rule.replace(/^RRULE:/i, ''), { dtstart: toFloating(anchor, zone) });
  if (Array.isArray(parsed)) throw new Error('one RRULE only');
  return parsed as RRule;
}

/** Problems with a recurring schedule, each a sentence; empty when it is usable. */
export function recurrenceProblems(rule: string, zone: string, now: Date): string[] {
  if (/DTSTART|EXDATE|RDATE/i.test(rule)) return ['give only the RRULE part (FREQ=...;BYHOUR=...;BYMINUTE=...); the SOP supplies the start'];
  let r: RRule;
  try {
    r = parseRecurrence(rule, now, zone);
  } catch (err) {
    return [`is not a valid RRULE: ${(err as Error).message}`];
  }
  const text = rule.toUpperCase();
  if (!ALLOWED_FREQS.includes(r.options.freq)) return ['FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY: an SOP may repeat at most hourly'];
  if (!/BYHOUR=/.test(text) || !/BYMINUTE=/.test(text)) return ['must say the time of day with BYHOUR and BYMINUTE (e.g. BYHOUR=8;BYMINUTE=30)'];
  if (/BYSECOND=/.test(text)) return ['BYSECOND is not supported: tasks are due to the minute'];
  const next = nextOccurrences(rule, zone, now, 50);
  if (!next.length) return ['never fires from now on'];
  for (let i = 1; i < next.length; i++) {
    if (next[i].getTime() - next[i - 1].getTime() < MIN_RECURRENCE_GAP_MINUTES * 60_000) {
      return [`fires more often than every ${MIN_RECURRENCE_GAP_MINUTES} minutes`];
    }
  }
  return [];
}

/**
 * The next `limit` occurrences strictly after `after`'s minute, as instants (whole minutes). The rule's own
 * occurrences carry the anchor's seconds, which the instants drop: a cursor at an instant given back (the next
 * page of a preview) would find that same occurrence again, so the search starts at the end of the minute.
 */
export function nextOccurrences(rule: string, zone: string, after: Date, limit: number, anchor = after): Date[] {
  const r = parseRecurrence(rule, anchor, zone);
  const out: Date[] = [];
  let cursor = new Date(Math.floor(toFloating(after, zone).getTime() / 60_000) * 60_000 + 59_999);
  for (let d = r.after(cursor, false); d && out.length < limit; d = r.after(cursor, false)) {
    out.push(toInstant(d, zone));
    cursor = d;
  }
  return out;
}

/** Occurrences in [from, to), as instants. */
export function occurrencesBetween(rule: string, zone: string, from: Date, to: Date, anchor = from): Date[] {
  const r = parseRecurrence(rule, anchor, zone);
  return r.between(toFloating(from, zone), toFloating(to, zone), true)
    .map((d) => toInstant(d, zone))
    .filter((d) => d >= from && d < to);
}

/** A Temporal Schedule calendar entry (the shape of @temporalio/client's CalendarSpec, kept free of the SDK here). */
export interface ScheduleCalendar {
  hour: number[];
  minute: number[];
  dayOfWeek?: string[];
  dayOfMonth?: number[];
  month?: string[];
}

const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];

/**
 * The Temporal Schedule calendar that fires at every occurrence of a (validated) RRULE: its BY-parts
 * as calendar fields. Parts a calendar cannot say (INTERVAL, COUNT, UNTIL, BYSETPOS) make it fire more
 * often; each firing then checks `isOccurrence` and skips the extra ones.
 */
export function scheduleCalendar(rule: string, zone: string, anchor: Date): ScheduleCalendar {
  const o = parseRecurrence(rule, anchor, zone).options;
  const calendar: ScheduleCalendar = { hour: o.byhour ?? [], minute: o.byminute ?? [] };
  const local = DateTime.fromJSDate(anchor, { zone });
  // Parts a calendar field cannot say (the 1st Monday, the last day, a year day or week number): fire on
  // every day at that time and let isOccurrence pick the right ones.
  const openDays = Boolean(o.bynmonthday?.length || o.byyearday?.length || o.byweekno?.length || o.bysetpos?.length);
  const weekdays = [...(o.byweekday ?? []), ...(o.bynweekday ?? []).map(([day]) => day)];
  if (weekdays.length) calendar.dayOfWeek = [...new Set(weekdays)].map((d) => WEEKDAYS[d]);
  else if (o.freq === Frequency.WEEKLY && !openDays) calendar.dayOfWeek = [WEEKDAYS[(local.weekday + 6) % 7]];
  if (o.bymonthday?.length) calendar.dayOfMonth = o.bymonthday.filter((d) => d > 0);
  else if ((o.freq === Frequency.MONTHLY || o.freq === Frequency.YEARLY) && !weekdays.length && !openDays) calendar.dayOfMonth = [local.day];
  if (o.bymonth?.length) calendar.month = o.bymonth.map((m) => MONTHS[m - 1]);
  else if (o.freq === Frequency.YEARLY && !openDays) calendar.month = [MONTHS[local.month - 1]];
  if (calendar.dayOfMonth && !calendar.dayOfMonth.length) delete calendar.dayOfMonth; // only negative month days: open
  return calendar;
}

/** Whether `at` (to the minute) is an occurrence of the rule anchored at `anchor`. */
export function isOccurrence(rule: string, zone: string, anchor: Date, at: Date): boolean {
  const minute = 60_000;
  return occurrencesBetween(rule, zone, new Date(at.getTime() - minute), new Date(at.getTime() + minute), anchor)
    .some((d) => Math.abs(d.getTime() - at.getTime()) < minute);
}

/**
 * When a recurring or broadcast task's window closes: `windowMinutes` of time outside quiet hours after `dueAt`.
 * A window that reaches quiet hours pauses through them and goes on when they end, so a task due at 20:30 for
 * four hours, quiet 21:00-08:00, closes at 11:30 the next day: the executor keeps the whole window in allowed
 * time, and neither the close nor the overdue reminders that follow it fall in the night.
 */
export function occurrenceDueUntil(dueAt: Date, windowMinutes: number, policy: Pick<DayPolicy, 'zone' | 'quietHours'>): Date {
  const quiet = policy.quietHours;
  const [s, e] = quiet ? [minutesOf(quiet.start), minutesOf(quiet.end)] : [0, 0];
  if (s === e) return new Date(dueAt.getTime() + windowMinutes * 60_000);
  const at = (day: DateTime, minute: number): DateTime => day.set({ hour: Math.floor(minute / 60), minute: minute % 60, second: 0, millisecond: 0 });
  let t: DateTime = DateTime.fromJSDate(dueAt, { zone: policy.zone });
  let left = windowMinutes;
  for (let guard = 0; guard < 800; guard++) {
    const minute = t.hour * 60 + t.minute;
    // The next quiet span's start at or after t (t itself when t is quiet), and its end.
    const quietFrom = isQuiet(minute, quiet!) ? t : at(minute < s ? t : t.plus({ days: 1 }), s);
    const quietTo = isQuiet(minute, quiet!) && minute < e ? at(t, e) : at(s < e ? quietFrom : quietFrom.plus({ days: 1 }), e);
    const open = quietFrom.diff(t, 'minutes').minutes;
    if (left <= open) return t.plus({ minutes: left }).toJSDate();
    left -= open;
    t = quietTo;
  }
  throw new Error('no window end found within two years');
}

/**
 * When a recurring or broadcast task falls due for one contact (or, for groups, in the SOP's zone): the
 * occurrence instant, moved off non-working days (when the SOP keeps to business days) to the next working
 * day at the same wall-clock time, and out of quiet hours to the minute they end. The same day policy as a
 * journey's window; `why` names each move (null when none), for the task's history.
 */
export function occurrenceDueAt(at: Date, policy: DayPolicy): { dueAt: Date; why: string | null } {
  let t = DateTime.fromJSDate(at, { zone: policy.zone }).startOf('minute');
  const why = new Set<string>();
  for (let guard = 0; guard < 400; guard++) {
    const day = t.toISODate()!;
    if (policy.businessDaysOnly && !policy.calendar.isWorkingDay(day)) {
      const next = DateTime.fromISO(policy.calendar.onOrAfter(day), { zone: policy.zone });
      // Wall-clock times: `set`, not `plus`, so 10:00 stays 10:00 across a daylight-saving change.
      t = next.set({ hour: t.hour, minute: t.minute });
      why.add('not a working day');
      continue;
    }
    const minute = t.hour * 60 + t.minute;
    if (policy.quietHours && isQuiet(minute, policy.quietHours)) {
      const end = minutesOf(policy.quietHours.end);
      t = (end > minute ? t : t.plus({ days: 1 })).set({ hour: Math.floor(end / 60), minute: end % 60 });
      why.add('quiet hours');
      continue;
    }
    return { dueAt: t.toJSDate(), why: why.size ? [...why].join(', ') : null };
  }
  throw new Error('no allowed time found within a year');
}
