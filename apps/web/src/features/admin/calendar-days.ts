import dayjs from 'dayjs';
import type { Schemas } from '../../api/client';

export type Day = Schemas['CalendarDayDto'];

/**
 * What a day is, as a Chinese phone calendar marks it: 休 for a public holiday or the organization's own
 * day off, 班 for a make-up working day (a worked weekend) or the organization's own working day.
 */
export type Kind = 'holiday' | 'makeup' | 'tenantOff' | 'tenantWork' | 'weekend' | 'workday';

/** The badge a kind wears: 休 (off) or 班 (work); plain weekdays and weekends wear none. */
export const BADGE: Partial<Record<Kind, 'off' | 'work'>> = { holiday: 'off', tenantOff: 'off', makeup: 'work', tenantWork: 'work' };

const MAKE_UP_SUFFIX = / \(make-up working day 调休上班\)$/;

export function kindOf(day: Day): Kind {
  const weekday = dayjs(day.date).day();
  const weekend = weekday === 0 || weekday === 6;
  if (day.source === 'tenant') return day.working ? 'tenantWork' : 'tenantOff';
  if (!day.working) return day.name ? 'holiday' : 'weekend';
  return weekend ? 'makeup' : 'workday';
}

/**
 * The day's name in the viewer's language. The shipped calendar names days in both languages
 * ("National Day / 国庆节"; make-up working days with a suffix); the organization's own entries keep their words.
 */
export function dayName(day: Day, lang: 'zh' | 'en', makeUp: (holiday: string) => string): string {
  const kind = kindOf(day);
  if (!day.name || kind === 'tenantOff' || kind === 'tenantWork') return day.name;
  const [en, zh] = day.name.replace(MAKE_UP_SUFFIX, '').split(' / ');
  const name = (lang === 'zh' ? zh : en) ?? en;
  return kind === 'makeup' ? makeUp(name) : name;
}
