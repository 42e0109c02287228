/**
 * The inbox's Today list, in one place: pending tasks whose window opens before the end of the day (`end`) and has
 * not closed at `now`, and that are not snoozed past `now` (a snoozed task waits in Upcoming until its snooze passes).
 * The inbox's Today list and badge (apps/api inbox.repository.ts) and the morning digest (reminders.ts, at the
 * digest's time) both count it, so the digest's "Today: N tasks" is the badge at that moment.
 *
 * `b.now` and `b.end` are SQL expressions; they are read in the order they appear (end first), as the inbox's lists
 * turn each into a parameter the first time it is read.
 */
export const todayListWhere = (t: string, b: { readonly now: string; readonly end: string }): string =>
  `${t}.status = 'pending' AND ${t}.due_at < ${b.end} AND ${t}.due_until >= ${b.now} AND (${t}.snoozed_until IS NULL OR ${t}.snoozed_until <= ${b.now})`;
