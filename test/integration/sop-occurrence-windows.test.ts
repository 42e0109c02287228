import { materializeOccurrencePage, snapshotBroadcast } from '@sop/engine';
import { DateTime } from 'luxon';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

/**
 * Recurring and broadcast tasks follow the journeys' policies (issue 14 item 2): the contact's zone, quiet
 * hours and business days decide when each is due, and a contact cap or an executor's capacity is never
 * exceeded: the task moves to the next allowed day (a 'deferred' history row says why), or is held with the
 * reason when no day within a week has room. Engine functions are called directly with chosen instants.
 */
describe('Recurring and broadcast tasks: windows and limits (real Postgres)', () => {
  const ctx = useStack();
  const db = () => ctx.stack.db;

  async function world(t: TenantFixture, contacts: { zone: string }[]) {
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const ids: string[] = [];
    for (const [i, c] of contacts.entries()) {
      const res = await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `客户${i}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: c.zone });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    return { owner, segment, ids };
  }

  async function activeSop(t: TenantFixture, name: string, definition: unknown): Promise<string> {
    const res = await t.admin.post('/api/sops', { name, definition });
    expect(res.status).toBe(201);
    expect((await t.admin.post(`/api/sops/${res.body.id}/activate`)).status).toBe(200);
    return res.body.id;
  }

  const step = { name: 'Report', dueWithinMinutes: 60, channel: 'wecom_chat', content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' } };
  const recurring = (segmentId: string, rrule: string, policies: Record<string, unknown>) => ({
    kind: 'recurring', timezone: 'Asia/Shanghai', audience: { segmentId }, schedule: { rrule }, steps: [step], policies,
  });
  /** The rule's next occurrence on a given ISO weekday (1 Monday), found after now. */
  const nextOn = (weekday: number, hour: number, minute = 0) => {
    let d = DateTime.now().setZone('Asia/Shanghai').plus({ days: 1 }).set({ hour, minute, second: 0, millisecond: 0 });
    while (d.weekday !== weekday) d = d.plus({ days: 1 });
    return d.toJSDate();
  };
  /**
   * The tenant's own calendar for the days these tests place tasks on, from the day before `from` for two weeks:
   * Monday to Friday work, Saturday and Sunday rest. The expectations name weekdays; the shipped calendar's public
   * holidays and make-up working days would move the tasks to other days when the test runs in the days before one
   * (a run in the first days of February 2027 fires on Monday 8 February, a Spring Festival holiday).
   */
  const plainWeeks = async (t: TenantFixture, from: Date) => {
    const first = DateTime.fromJSDate(from, { zone: 'Asia/Shanghai' }).startOf('day').minus({ days: 1 });
    for (let n = 0; n < 16; n++) {
      const day = first.plus({ days: n });
      expect((await t.admin.put(`/api/calendar/days/${day.toISODate()}`, { working: day.weekday <= 5, name: '' })).status).toBe(200);
    }
  };
  const fire = (sopId: string, occurrence: Date) => materializeOccurrencePage(db(), { sopId, occurrence, after: null, limit: 100 });
  const tasksOf = (sopId: string) => db().query(
    `SELECT t.id, t.contact_id, t.due_at, t.due_until, t.status, t.held_reason, c.timezone FROM tasks t JOIN contacts c ON c.id = t.contact_id
      WHERE t.sop_id = $1 ORDER BY c.external_id`, [sopId]);
  const local = (at: Date, zone: string) => DateTime.fromJSDate(at, { zone }).toFormat('ccc HH:mm');

  it('times a recurring task in the contact\'s zone, out of quiet hours and on its working days', async () => {
    const t = await signupTenant(ctx.http);
    const { segment } = await world(t, [{ zone: 'Asia/Shanghai' }, { zone: 'Europe/London' }, { zone: 'America/New_York' }]);
    // 08:00 Shanghai on a Monday: 08:00 Mon in Shanghai, 00:00/01:00 Mon in London, 19:00/20:00 Sun in New York.
    const sop = await activeSop(t, 'Morning', { ...recurring(segment.id, 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0',
      { businessDaysOnly: true, quietHours: { start: '21:00', end: '09:00' } }), steps: [{ ...step, dueWithinMinutes: 180 }] });
    const occurrence = nextOn(1, 8);
    await plainWeeks(t, occurrence);
    expect(await fire(sop, occurrence)).toMatchObject({ tasks: 3 });
    const due = (await tasksOf(sop)).map((r: { due_at: Date; timezone: string }) => local(r.due_at, r.timezone));
    // Shanghai and London wait for the quiet hours to end; New York's Sunday evening moves to Monday, same time.
    expect(due).toEqual(['Mon 09:00', 'Mon 09:00', 'Mon 19:00']);
    // A three-hour window that reaches quiet hours pauses through them: New York's closes Tue 10:00, not Mon 22:00.
    const until = (await tasksOf(sop)).map((r: { due_until: Date; timezone: string }) => local(r.due_until, r.timezone));
    expect(until).toEqual(['Mon 12:00', 'Mon 12:00', 'Tue 10:00']);
    // Each move is said on the task.
    const [{ n }] = await db().query(
      `SELECT count(*)::int AS n FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.sop_id = $1 AND e.action = 'deferred' AND e.detail ? 'reason'`, [sop]);
    expect(n).toBe(3);
  });

  it('never puts a recurring or broadcast task over a contact cap: defers to the next working day, or holds it', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, ids: [contact] } = await world(t, [{ zone: 'Asia/Shanghai' }]);
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 1 })).status).toBe(200);
    const rule = 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0';
    const policies = { businessDaysOnly: true };
    const first = await activeSop(t, 'First', recurring(segment.id, rule, policies));
    const second = await activeSop(t, 'Second', recurring(segment.id, rule, policies));
    const friday = nextOn(5, 10);
    await plainWeeks(t, friday);
    const broadcast = await activeSop(t, 'Announcement', {
      kind: 'broadcast', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, sendAt: friday.toISOString(), steps: [step], policies,
    });
    await snapshotBroadcast(db(), broadcast);

    for (const sop of [first, second, broadcast]) await fire(sop, friday);
    const [a] = await tasksOf(first);
    const [b] = await tasksOf(second);
    const [c] = await tasksOf(broadcast);
    expect(a).toMatchObject({ contact_id: contact, status: 'pending', due_at: friday });
    // The week is full: the next working day in a new week is Monday, at the occurrence's time of day.
    expect(b).toMatchObject({ status: 'pending' });
    expect(local(b.due_at, 'Asia/Shanghai')).toBe('Mon 10:00');
    expect(b.due_at.getTime() - friday.getTime()).toBe(3 * 86_400_000);
    const [event] = await db().query(`SELECT detail FROM task_events WHERE task_id = $1 AND action = 'deferred'`, [b.id]);
    expect(event.detail).toMatchObject({ reason: expect.stringContaining('cap'), to: expect.any(String) });
    // No working day in the next week has room (this week and next are full): held, with the reason, never over the cap.
    expect(c).toMatchObject({ status: 'held', held_reason: expect.stringContaining('no room') });
    const weeks = await db().query(
      `SELECT to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-IW') AS week, count(*)::int AS n FROM tasks
        WHERE contact_id = $1 AND status = 'pending' GROUP BY 1`, [contact]);
    expect(weeks.every((w: { n: number }) => w.n <= 1)).toBe(true);

    // A repeated firing adds nothing and moves nothing.
    for (const sop of [first, second, broadcast]) expect(await fire(sop, friday)).toMatchObject({ tasks: 0 });
  });

  it('moves a task a limit refuses to the start of the next allowed day\'s window, not to the time it was moved to that day', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, owner } = await world(t, [{ zone: 'Asia/Shanghai' }]);
    // 08:30 on Fridays in quiet hours until 09:00: the task's window opens at 09:00 and lasts an hour (dueWithinMinutes).
    const rule = 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30';
    const quiet = { start: '21:00', end: '09:00' };
    const filler = await activeSop(t, 'Filler', recurring(segment.id, rule, { businessDaysOnly: true, quietHours: quiet }));
    const main = await activeSop(t, 'Main', recurring(segment.id, rule, { businessDaysOnly: true, quietHours: quiet, executorDailyCapacity: 1, overflow: 'defer' }));
    const friday = nextOn(5, 8, 30);
    await plainWeeks(t, friday);
    // The owner is away until 09:30 that Friday, inside the window: both tasks wait for the return.
    const back = DateTime.fromJSDate(friday, { zone: 'Asia/Shanghai' }).set({ hour: 9, minute: 30 });
    const leave = await t.admin.post(`/api/users/${owner.id}/leaves`, { startsAt: back.minus({ days: 1 }).toISO(), endsAt: back.toISO(), policy: 'defer' });
    expect(leave.status).toBe(201);

    await fire(filler, friday);
    await fire(main, friday);
    const [f] = await tasksOf(filler);
    expect(local(f.due_at, 'Asia/Shanghai')).toBe('Fri 09:30');
    // Friday is full (capacity 1): Main's task goes to the next working day, Monday, at its window's start (09:00, where
    // quiet hours end), as a journey step held back by a limit is due at its window's start on the day it moves to;
    // not at 09:30, the time of day it had been moved to on Friday.
    const [m] = await tasksOf(main);
    expect(m).toMatchObject({ status: 'pending' });
    expect(local(m.due_at, 'Asia/Shanghai')).toBe('Mon 09:00');
    const [row] = await db().query(`SELECT due_until FROM tasks WHERE id = $1`, [m.id]);
    expect(local(row.due_until, 'Asia/Shanghai')).toBe('Mon 10:00');
    const [event] = await db().query(`SELECT detail FROM task_events WHERE task_id = $1 AND action = 'deferred'`, [m.id]);
    expect(event.detail.reason).toEqual(expect.stringContaining('executor on leave'));
    expect(event.detail.reason).toEqual(expect.stringContaining('executor capacity'));

    // A return after the day's window (11:00, the window closed at 10:00): the next working day's window start.
    const late = await activeSop(t, 'Late', recurring(segment.id, 'FREQ=WEEKLY;BYDAY=TH;BYHOUR=8;BYMINUTE=30', { businessDaysOnly: true, quietHours: quiet }));
    const thursday = DateTime.fromJSDate(friday).plus({ days: 6 }).toJSDate(); // the Thursday after
    const returns = DateTime.fromJSDate(thursday, { zone: 'Asia/Shanghai' }).set({ hour: 11, minute: 0 });
    expect((await t.admin.post(`/api/users/${owner.id}/leaves`, { startsAt: returns.minus({ hours: 4 }).toISO(), endsAt: returns.toISO(), policy: 'defer' })).status).toBe(201);
    await fire(late, thursday);
    const [l] = await tasksOf(late);
    expect(local(l.due_at, 'Asia/Shanghai')).toBe('Fri 09:00');
  });

  it('never puts recurring tasks over an executor\'s daily capacity: defers day by day, holds past a week', async () => {
    const t = await signupTenant(ctx.http);
    const { segment, owner } = await world(t, Array.from({ length: 10 }, () => ({ zone: 'Asia/Shanghai' })));
    const sop = await activeSop(t, 'Daily', recurring(segment.id, 'FREQ=DAILY;BYHOUR=10;BYMINUTE=0',
      { businessDaysOnly: false, executorDailyCapacity: 1, overflow: 'defer' }));
    const occurrence = nextOn(3, 10);
    expect(await fire(sop, occurrence)).toMatchObject({ tasks: 10 });
    const rows = await db().query(
      `SELECT status, to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day FROM tasks WHERE sop_id = $1 AND executor_id = $2`, [sop, owner.id]);
    const pending = rows.filter((r: { status: string }) => r.status === 'pending');
    const days = pending.map((r: { day: string }) => r.day);
    expect(new Set(days).size).toBe(days.length); // one a day: never over capacity
    expect(pending).toHaveLength(8); // the occurrence's day and the seven after it
    expect(rows.filter((r: { status: string }) => r.status === 'held')).toHaveLength(2);
  });
});
