import { DateTime } from 'luxon';

/** The zones a test contact may live in, tried in this order: the product's default first. */
const ZONES = ['Asia/Shanghai', 'Europe/London', 'America/New_York'] as const;

/**
 * A zone for test contacts whose journey step is due on day 0 in a window that ends late in the day (00:00-23:55,
 * 00:00-23:59), chosen so that the window is open now and stays open for `hours` more: Asia/Shanghai, unless it is
 * that late there now, else the first zone where it is not. A contact that enters in the window's last minutes has
 * its day-0 task due the next day (docs/sops.md), and a task whose window closes while the test runs turns overdue:
 * with Shanghai contacts, a test run at 23:57 in Shanghai would wait for a task that comes at midnight.
 */
export function zoneWithOpenWindow(end = '23:59', hours = 2, now: Date = new Date()): string {
  const endMinute = Number(end.slice(0, 2)) * 60 + Number(end.slice(3, 5));
  for (const zone of ZONES) {
    const local = DateTime.fromJSDate(now, { zone });
    if (local.hour * 60 + local.minute + hours * 60 < endMinute) return zone;
  }
  // with the defaults this cannot happen: when it is late evening in Shanghai, it is afternoon in London
  throw new Error(`no test zone has ${hours} h left before ${end} now`);
}
