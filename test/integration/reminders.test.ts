import { claimDeliveries, enrollEntrants, finishDeliveries, materializeDuePage, planReminders } from '@sop/engine';
import { ensureReminderSweepSchedule, REMINDER_SWEEP_SCHEDULE } from '@sop/temporal';
import { deliverDueReminders } from '@sop/worker';
import { Client, Connection } from '@temporalio/client';
import { zoneWithOpenWindow } from '../support/clock';
import { testEnv } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { saveHistory } from '../support/histories';
import { withSchedule } from '../support/schedules';
import { AS_CUSTOMER, addUser, Http, signupTenant } from '../support/http';
import { SmtpSink } from '../support/smtp-sink';
import { Stack } from '../support/stack';

const MIN = 60_000;
const at = (iso: string) => new Date(iso);

describe('reminders: planning, delivery, in-app API and live stream (real Postgres, Temporal and SMTP)', () => {
  let stack: Stack;
  let http: Http;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    stack = await Stack.start({ worker: true, smtpUrl: smtp.url, env: { NOTIFY_INSECURE_TARGET_HOSTS: '127.0.0.1' } });
    http = new Http(stack.baseUrl);
  });
  afterAll(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  /** A store team (manager, two employees), three contacts of e1 and an active journey whose step has `reminder`. */
  async function world(reminder: Record<string, unknown> = { dueSoonMinutes: 20, overdueEscalationMinutes: 30 }, materials: unknown[] = []) {
    const t = await signupTenant(http);
    const { tags } = await createTagSystem(t.admin);
    const store = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const manager = await addUser(t, http, 'manager', { teamId: store.id });
    await t.admin.patch(`/api/teams/${store.id}`, { managerId: manager.id });
    const e1 = await addUser(t, http, 'employee', { teamId: store.id });
    const e2 = await addUser(t, http, 'employee', { teamId: store.id });
    for (const n of [1, 2, 3]) {
      // in a zone where the step's all-day window (00:00-23:59) is open for hours yet, so the tasks are made now
      await t.admin.post('/api/contacts', { externalId: `c${n}`, name: `客户${n}`, ownerId: e1.id, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow() });
    }
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    /** an active journey for the three contacts, its tasks made */
    const addSop = async (name: string, stepReminder: Record<string, unknown>) => {
      const created = (await t.admin.post('/api/sops', { name, definition: {
        kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
        steps: [{ name: 'Call 电话', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
          content: { template: '给{{ contact.name }}打电话', materials }, executor: { rule: 'contactOwner' }, reminder: stepReminder }],
        policies: { businessDaysOnly: false },
      } })).body;
      expect((await t.admin.post(`/api/sops/${created.id}/activate`)).status).toBe(200);
      await enrollEntrants(stack.db, created.id, new Date());
      await materializeDuePage(stack.db, created.id, new Date(), 100);
      return created;
    };
    const sop = await addSop('Follow up 跟进', reminder);
    const [{ tenant_id: tenantId }] = await stack.db.query(`SELECT tenant_id FROM users WHERE id = $1`, [e1.id]);
    /** every task of the SOP gets this window */
    const window = (from: Date, until: Date, executorId = e1.id, sopId = sop.id) => stack.db.query(
      `UPDATE tasks SET due_at = $2, due_until = $3, executor_id = $4 WHERE sop_id = $1`, [sopId, from, until, executorId]);
    const plan = (now: Date) => planReminders(stack.db, now, [tenantId]);
    const rows = (userId: string, kind?: string) => stack.db.query(
      `SELECT id::text, kind, title, body, dedupe_key, mandatory, task_id::text, link FROM notifications
        WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY id`, [userId, kind ?? null]);
    const deliveries = (userId: string) => stack.db.query(
      `SELECT d.id::text, d.channel, d.status, d.attempts, d.next_attempt_at, d.last_error FROM notification_deliveries d
         JOIN notifications n ON n.id = d.notification_id WHERE n.user_id = $1 ORDER BY d.id`, [userId]);
    const deliver = (now: Date) => deliverDueReminders(stack.db, stack.notifier, { now, onlyTenants: [tenantId], appUrl: stack.baseUrl });
    return { t, tenantId, manager, e1, e2, sop, addSop, window, plan, rows, deliveries, deliver };
  }


  it('nudges the executor N minutes before the window closes and escalates to the manager M minutes after, once each', async () => {
    const w = await world();
    const closes = at('2030-03-04T10:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);

    expect(await w.plan(new Date(closes.getTime() - 25 * MIN))).toMatchObject({ dueSoon: 0, escalations: 0 });
    const nudgeAt = new Date(closes.getTime() - 19 * MIN);
    // two sweeps at once (a retry overlapping the next firing) plan each reminder once
    const [a, b] = await Promise.all([w.plan(nudgeAt), w.plan(nudgeAt)]);
    expect(a.dueSoon + b.dueSoon).toBe(3);
    expect(await w.plan(nudgeAt)).toEqual({ digests: 0, managerDigests: 0, dueSoon: 0, escalations: 0, deliveries: 0 });
    const nudges = await w.rows(w.e1.id, 'due_soon');
    expect(nudges).toHaveLength(3);
    expect(nudges[0]).toMatchObject({ title: expect.stringMatching(/^任务即将截止：客户\d$/), mandatory: false, link: `/inbox?task=${nudges[0].task_id}` });
    expect(nudges[0].body).toBe('Follow up 跟进「Call 电话」将于 03-04 18:00 截止，请尽快完成。');
    expect(await w.deliveries(w.e1.id)).toHaveLength(3);

    // delivering twice sends each email once
    await w.deliver(nudgeAt);
    await w.deliver(nudgeAt);
    const mails = smtp.to(w.e1.email);
    expect(mails).toHaveLength(3);
    expect(mails.map((m) => m.mail.subject).sort()).toEqual(nudges.map((n: { title: string }) => n.title).sort());
    expect(new Set(mails.map((m) => m.mail.messageId)).size).toBe(3);
    expect(mails[0].mail.text).toContain(`${stack.baseUrl}/inbox?task=`);
    expect((await w.deliveries(w.e1.id)).map((d: { status: string }) => d.status)).toEqual(['sent', 'sent', 'sent']);

    // a task done in time is not escalated
    const [done] = await stack.db.query(`UPDATE tasks SET status = 'done', finished_at = now() WHERE id = $1 RETURNING id`, [nudges[0].task_id]);
    expect(await w.plan(new Date(closes.getTime() + 29 * MIN))).toMatchObject({ escalations: 0 });
    expect(await w.plan(new Date(closes.getTime() + 31 * MIN))).toMatchObject({ dueSoon: 0, escalations: 2 });
    expect(await w.plan(new Date(closes.getTime() + 32 * MIN))).toMatchObject({ escalations: 0 });
    const escalations = await w.rows(w.manager.id, 'escalation');
    expect(escalations.map((e: { task_id: string }) => e.task_id)).not.toContain(done.id);
    expect(escalations[0].title).toBe('团队任务逾期：Test employee');
    expect(escalations[0].link).toBe(`/team?task=${escalations[0].task_id}`); // the manager opens it in the team inbox
    expect(await w.rows(w.e2.id)).toEqual([]);
    await w.deliver(new Date(closes.getTime() + 31 * MIN));
    expect(smtp.to(w.manager.email)).toHaveLength(2);
  });

  it('escalates each step after its own M, planned together', async () => {
    const w = await world({ overdueEscalationMinutes: 30 });
    const later = await w.addSop('Second look 复查', { overdueEscalationMinutes: 90 });
    const closes = at('2030-03-04T12:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    await w.window(new Date(closes.getTime() - 120 * MIN), closes, w.e1.id, later.id);
    await w.plan(new Date(closes.getTime() + 20 * MIN));
    expect(await w.plan(new Date(closes.getTime() + 31 * MIN))).toMatchObject({ escalations: 3 });
    expect(await w.plan(new Date(closes.getTime() + 89 * MIN))).toMatchObject({ escalations: 0 });
    expect(await w.plan(new Date(closes.getTime() + 91 * MIN))).toMatchObject({ escalations: 3 });
    const bodies = (await w.rows(w.manager.id, 'escalation')).map((n: { body: string }) => n.body);
    expect(bodies.filter((b: string) => b.includes('Second look 复查'))).toHaveLength(3);
  });

  it("sends the morning digest at the user's digest time in the user's zone, and catches up after a sweep was down", async () => {
    const w = await world();
    expect((await w.e2.client.put('/api/me/notification-preferences', { locale: 'en', timezone: 'America/New_York', digestTime: '07:00' })).status).toBe(200);
    // 2030-03-05 in New York (UTC-5): the tasks are e2's, due 09:00 to 17:00 local
    await w.window(at('2030-03-05T14:00:00Z'), at('2030-03-05T22:00:00Z'), w.e2.id);
    // The digest counts the inbox's Today list at 07:00: a task snoozed until 10:00 is not in it yet (it waits in
    // Upcoming), one snoozed until 06:30 is back.
    const [later, earlier] = (await stack.db.query(`SELECT id FROM tasks WHERE sop_id = $1 ORDER BY id`, [w.sop.id])).map((r: { id: string }) => r.id);
    await stack.db.query(`UPDATE tasks SET snoozed_until = $2 WHERE id = $1`, [later, at('2030-03-05T15:00:00Z')]);
    await stack.db.query(`UPDATE tasks SET snoozed_until = $2 WHERE id = $1`, [earlier, at('2030-03-05T11:30:00Z')]);
    expect(await w.plan(at('2030-03-05T11:50:00Z'))).toMatchObject({ digests: 0 }); // 06:50 in New York
    // the next sweep comes 20 minutes late (07:10): it plans from 06:50 and finds 07:00
    expect(await w.plan(at('2030-03-05T12:10:00Z'))).toMatchObject({ digests: 1 });
    expect(await w.plan(at('2030-03-05T12:11:00Z'))).toMatchObject({ digests: 0 });
    const [digest] = await w.rows(w.e2.id, 'digest');
    expect(digest).toMatchObject({ title: 'Today: 2 tasks', dedupe_key: 'digest:2030-03-05', link: '/inbox?list=today' });
    expect(digest.body).toMatch(/^Follow up 跟进: 2 \(客户\d, 客户\d\)$/);
    // e1 (08:30 in Shanghai, the default) has no tasks that day: no digest
    expect(await w.plan(at('2030-03-06T00:31:00Z'))).toMatchObject({ digests: 0 });
    expect(await w.rows(w.e1.id, 'digest')).toEqual([]);
  });

  it('keeps a mandatory reminder that preferences switched off, and drops one that is not mandatory', async () => {
    for (const mandatory of [false, true]) {
      const w = await world({ dueSoonMinutes: 20, mandatory });
      const prefs = await w.e1.client.put('/api/me/notification-preferences', { kinds: { due_soon: false } });
      expect(prefs.body.kinds).toEqual({ digest: true, due_soon: false, escalation: true, material_opened: true, manager_digest: true });
      const closes = at('2030-03-06T10:00:00Z');
      await w.window(new Date(closes.getTime() - 120 * MIN), closes);
      const planned = await w.plan(new Date(closes.getTime() - 19 * MIN));
      expect(planned.dueSoon).toBe(mandatory ? 3 : 0);
      expect((await w.rows(w.e1.id)).every((n: { mandatory: boolean }) => n.mandatory === mandatory)).toBe(true);
    }
  });

  it('holds a non-mandatory email back during quiet hours and sends it when they end; in-app comes at once', async () => {
    const w = await world({ dueSoonMinutes: 60 });
    await w.e1.client.put('/api/me/notification-preferences', { quietHours: { start: '22:00', end: '08:00' } });
    const closes = at('2030-03-07T16:00:00Z'); // 00:00 in Shanghai; the nudge is due at 23:00, in quiet hours
    await w.window(new Date(closes.getTime() - 180 * MIN), closes);
    const nudgeAt = new Date(closes.getTime() - 59 * MIN);
    expect(await w.plan(nudgeAt)).toMatchObject({ dueSoon: 3, deliveries: 3 });
    expect(await w.rows(w.e1.id, 'due_soon')).toHaveLength(3);
    const held = await w.deliveries(w.e1.id);
    expect(held.map((d: { next_attempt_at: Date }) => d.next_attempt_at.toISOString())).toEqual(Array(3).fill('2030-03-08T00:00:00.000Z'));
    await w.deliver(nudgeAt);
    await w.deliver(at('2030-03-07T23:59:00Z'));
    expect(smtp.to(w.e1.email)).toHaveLength(0);
    await w.deliver(at('2030-03-08T00:00:01Z'));
    expect(smtp.to(w.e1.email)).toHaveLength(3);

    // a mandatory reminder is not held: the SOP's owner wants it before the window closes
    const m = await world({ dueSoonMinutes: 60, mandatory: true });
    await m.e1.client.put('/api/me/notification-preferences', { quietHours: { start: '22:00', end: '08:00' } });
    await m.window(new Date(closes.getTime() - 180 * MIN), closes);
    await m.plan(nudgeAt);
    expect((await m.deliveries(m.e1.id)).map((d: { next_attempt_at: Date }) => d.next_attempt_at)).toEqual(Array(3).fill(nudgeAt));
    await m.deliver(nudgeAt);
    expect(smtp.to(m.e1.email)).toHaveLength(3);
  });

  it("takes back a crashed worker's claims when their lease ends, and sends each once", async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const closes = at('2030-03-08T10:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    const now = new Date(closes.getTime() - 19 * MIN);
    await w.plan(now);
    // a worker claims the page and dies before sending
    expect(await claimDeliveries(stack.db, { now, limit: 10, leaseMs: 60_000, onlyTenants: [w.tenantId] })).toHaveLength(3);
    expect(await w.deliver(new Date(now.getTime() + 30_000))).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await w.deliver(new Date(now.getTime() + 61_000))).toEqual({ sent: 3, retried: 0, failed: 0 });
    expect(await w.deliver(new Date(now.getTime() + 3_600_000))).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(smtp.to(w.e1.email)).toHaveLength(3);
    expect((await w.deliveries(w.e1.id)).map((d: { attempts: number }) => d.attempts)).toEqual([2, 2, 2]);
  });

  it("ignores a worker's late report on a claim another worker took over after its lease", async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const closes = at('2030-03-08T14:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    const now = new Date(closes.getTime() - 19 * MIN);
    await w.plan(now);
    const claim = (t: Date) => claimDeliveries(stack.db, { now: t, limit: 10, leaseMs: 60_000, onlyTenants: [w.tenantId] });
    const slow = await claim(now);
    const second = await claim(new Date(now.getTime() + 61_000));
    expect(second.map((d) => d.attempts)).toEqual([2, 2, 2]);
    // the slow worker's send timed out and it reports a retry while the second worker is sending
    await finishDeliveries(stack.db, slow.map((d) => ({ id: d.id, attempts: d.attempts, result: 'retry', error: 'timeout', at: new Date(now.getTime() + 90_000) })));
    expect(await claim(new Date(now.getTime() + 91_000))).toEqual([]);
    await finishDeliveries(stack.db, second.map((d) => ({ id: d.id, attempts: d.attempts, result: 'sent' })));
    expect((await w.deliveries(w.e1.id)).map((d: { status: string; attempts: number }) => [d.status, d.attempts])).toEqual(Array(3).fill(['sent', 2]));
  });

  it('refuses to send to a robot whose host is an internal address, however the row got there (SSRF)', async () => {
    const w = await world({ dueSoonMinutes: 20 });
    await w.e1.client.put('/api/me/notification-preferences', { channels: ['wecom'] });
    // a target stored before registration checked hosts, or a public name that now resolves inside
    await stack.db.query(`INSERT INTO notification_targets (tenant_id, user_id, kind, url) VALUES ($1, $2, 'wecom', 'https://127.0.0.1:9/cgi-bin/webhook/send')`,
      [w.tenantId, w.e1.id]);
    const closes = at('2030-03-08T16:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    const now = new Date(closes.getTime() - 19 * MIN);
    await w.plan(now);
    expect(await w.deliver(now)).toEqual({ sent: 0, retried: 0, failed: 3 });
    const rows = await w.deliveries(w.e1.id);
    expect(rows.map((d: { channel: string; status: string }) => [d.channel, d.status])).toEqual(Array(3).fill(['wecom', 'failed']));
    expect(rows[0].last_error).toMatch(/internal address/);
  });

  it('retries a transient SMTP failure with backoff and then delivers it once', async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const closes = at('2030-03-09T10:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    const now = new Date(closes.getTime() - 19 * MIN);
    await w.plan(now);
    smtp.failNext(1, 451);
    await w.deliver(now);
    expect(smtp.to(w.e1.email)).toHaveLength(2);
    const retried = (await w.deliveries(w.e1.id)).filter((d: { status: string }) => d.status === 'pending');
    expect(retried).toEqual([expect.objectContaining({ attempts: 1, next_attempt_at: new Date(now.getTime() + 30_000) })]);
    expect(retried[0].last_error).toMatch(/451/);
    await w.deliver(new Date(now.getTime() + 10_000)); // still backing off
    expect(smtp.to(w.e1.email)).toHaveLength(2);
    await w.deliver(new Date(now.getTime() + 31_000));
    await w.deliver(new Date(now.getTime() + 600_000));
    expect(smtp.to(w.e1.email)).toHaveLength(3);
    expect((await w.deliveries(w.e1.id)).map((d: { status: string; attempts: number }) => [d.status, d.attempts]).sort())
      .toEqual([['sent', 1], ['sent', 1], ['sent', 2]]);
    // a refused address (5xx) is not retried
    const again = await world({ dueSoonMinutes: 20 });
    await again.window(new Date(closes.getTime() - 120 * MIN), closes);
    await again.plan(now);
    smtp.failNext(3, 550);
    await again.deliver(now);
    expect((await again.deliveries(again.e1.id)).map((d: { status: string }) => d.status)).toEqual(['failed', 'failed', 'failed']);
  });

  it('pushes a new notification to an open stream within a second (ticket for EventSource, or a bearer header)', async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const { ticket, streamPath } = (await w.e1.client.post('/api/notifications/stream-tickets')).body;
    expect(streamPath).toBe(`/api/notifications/stream?ticket=${encodeURIComponent(ticket)}`);
    // a ticket opens the stream only: it is no access token
    expect((await http.as(ticket).get('/api/notifications')).status).toBe(401);
    expect((await http.get('/api/notifications/stream?ticket=forged')).status).toBe(401);
    expect((await http.get('/api/notifications/stream')).status).toBe(401);

    const stream = await openStream(`${stack.baseUrl}${streamPath}`);
    try {
      await stream.next('ready');
      const closes = at('2030-03-10T10:00:00Z');
      await w.window(new Date(closes.getTime() - 120 * MIN), closes);
      const started = Date.now();
      await w.plan(new Date(closes.getTime() - 19 * MIN));
      const event = await stream.next('notification', 1000);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(event).toMatchObject({ kind: 'due_soon', title: expect.stringMatching(/^任务即将截止/), readAt: null });
    } finally {
      stream.close();
    }
    // a ticket is single-use (issue 15): seen in a log or a URL bar, it opens nothing
    const reused = await http.get(streamPath);
    expect(reused.status).toBe(401);
    expect(reused.body.message).toMatch(/used already/);
    // a browser that reconnects (with a new ticket) sends Last-Event-ID and gets what came after it
    const [first, ...later] = await w.rows(w.e1.id, 'due_soon');
    const fresh = (await w.e1.client.post('/api/notifications/stream-tickets')).body.streamPath;
    const resumed = await openStream(`${stack.baseUrl}${fresh}`, { 'last-event-id': first.id });
    try {
      await resumed.next('ready');
      const replayed = [await resumed.next('notification'), await resumed.next('notification')];
      expect(replayed.map((n) => n.id)).toEqual(later.map((n: { id: string }) => n.id));
    } finally {
      resumed.close();
    }
  });

  it('pushes a notification whose transaction commits after a later one was pushed', async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const stream = await openStream(`${stack.baseUrl}/api/notifications/stream`, w.e1.client.headers);
    const slowTx = stack.db.createQueryRunner();
    const insert = async (q: { query: (sql: string, params: unknown[]) => Promise<{ id: string }[]> }, key: string) => (await q.query(
      `INSERT INTO notifications (tenant_id, user_id, kind, dedupe_key, title, body) VALUES ($1, $2, 'digest', $3, 't', 'b') RETURNING id::text AS id`,
      [w.tenantId, w.e1.id, key]))[0].id;
    try {
      await stream.next('ready');
      await slowTx.connect();
      await slowTx.startTransaction();
      const slow = await insert(slowTx, 'late-commit:slow'); // a long sweep took the lower id
      const fast = await insert(stack.db, 'late-commit:fast');
      expect((await stream.next('notification', 2000)).id).toBe(fast);
      await slowTx.commitTransaction();
      expect((await stream.next('notification', 2000)).id).toBe(slow);
    } finally {
      stream.close();
      await slowTx.release();
    }
  });

  it('ends open streams and releases its listener when the API shuts down', async () => {
    const other = await Stack.start();
    const t = await signupTenant(new Http(other.baseUrl));
    const stream = await openStream(`${other.baseUrl}/api/notifications/stream`, t.admin.headers);
    await stream.next('ready');
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(stream.next('notification', 2000)).rejects.toThrow('stream ended');
  });

  it("tells the task's executor when a customer opens a tracked material, once a day", async () => {
    const w = await world({}, [{ title: 'Coupon 优惠券', url: 'https://shop.example/coupon' }]);
    const [task] = await stack.db.query(
      `SELECT t.id::text FROM tasks t JOIN contacts c ON c.id = t.contact_id WHERE t.sop_id = $1 AND c.name = '客户1'`, [w.sop.id]);
    const path = (await w.e1.client.get(`/api/inbox/tasks/${task.id}`)).body.materials[0].trackedPath;
    const bearer = await openStream(`${stack.baseUrl}/api/notifications/stream`, w.e1.client.headers);
    try {
      await bearer.next('ready');
      for (const _ of [1, 2]) expect((await fetch(`${stack.baseUrl}${path}`, AS_CUSTOMER)).status).toBe(302);
      const live = await bearer.next('notification', 1000);
      expect(live).toMatchObject({ kind: 'material_opened', taskId: task.id, title: '客户1 打开了「Coupon 优惠券」' });
    } finally {
      bearer.close();
    }
    const opened = await w.rows(w.e1.id, 'material_opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].body).toBe('客户1 刚刚打开了你发送的「Coupon 优惠券」（Follow up 跟进），现在跟进正是时候。');
    // its email waits for the next delivery
    expect((await w.deliveries(w.e1.id)).map((d: { status: string }) => d.status)).toEqual(['pending']);
    await w.deliver(new Date());
    expect(smtp.to(w.e1.email).map((m) => m.mail.subject)).toEqual(['客户1 打开了「Coupon 优惠券」']);
  });

  it("lists, counts and marks one's own notifications; another person's answer 404", async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const closes = at('2030-03-11T10:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    await w.plan(new Date(closes.getTime() - 19 * MIN));
    const e1 = w.e1.client;
    expect((await e1.get('/api/notifications/unread-count')).body).toEqual({ unread: 3 });
    const first = (await e1.get('/api/notifications?limit=2')).body;
    expect(first.items).toHaveLength(2);
    const second = (await e1.get(`/api/notifications?limit=2&cursor=${first.nextCursor}`)).body;
    expect(second).toMatchObject({ nextCursor: null, items: [expect.objectContaining({ kind: 'due_soon' })] });
    const id = first.items[0].id;

    expect((await w.e2.client.post(`/api/notifications/${id}/read`)).status).toBe(404);
    expect((await w.e2.client.get('/api/notifications')).body.items).toEqual([]);
    expect((await w.manager.client.post(`/api/notifications/${id}/read`)).body.code).toBe('NOTIFICATION_NOT_FOUND');
    expect((await e1.post('/api/notifications/not-a-number/read')).status).toBe(404);

    const read = (await e1.post(`/api/notifications/${id}/read`)).body;
    expect(read.readAt).not.toBeNull();
    expect((await e1.post(`/api/notifications/${id}/read`)).body.readAt).toBe(read.readAt);
    expect((await e1.get('/api/notifications?unread=true')).body.items.map((n: { id: string }) => n.id)).not.toContain(id);
    expect((await e1.post('/api/notifications/read-all')).body).toEqual({ updated: 2 });
    expect((await e1.post('/api/notifications/read-all')).body).toEqual({ updated: 0 });
    expect((await e1.get('/api/notifications/unread-count')).body).toEqual({ unread: 0 });
    // an API key is nobody's: it has no notifications
    const key = (await w.t.admin.post('/api/api-keys', { name: 'crm', role: 'employee' })).body.key;
    expect((await http.withApiKey(key).get('/api/notifications')).body.code).toBe('NOTIFICATIONS_NEED_A_USER');
  });

  it('validates preferences and targets with 422 naming the field, and never shows a secret in full', async () => {
    const w = await world();
    const me = w.e1.client;
    expect((await me.get('/api/me/notification-preferences')).body).toEqual({
      locale: 'zh', timezone: 'Asia/Shanghai', channels: ['in_app', 'email'], digestTime: '08:30', quietHours: null, dueSoonMinutes: 30,
      kinds: { digest: true, due_soon: true, escalation: true, material_opened: true, manager_digest: true },
    });
    const bad = await me.put('/api/me/notification-preferences', {
      timezone: 'Mars/Olympus', digestTime: '25:00', channels: ['email', 'pager'], quietHours: { start: '22:00', end: '22:00' }, dueSoonMinutes: 0,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('PREFERENCES_INVALID');
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['channels[1]', 'digestTime', 'dueSoonMinutes', 'quietHours', 'timezone']);
    expect((await me.put('/api/me/notification-preferences', { sms: true })).status).toBe(400);
    // nothing of a refused change was kept
    expect((await me.get('/api/me/notification-preferences')).body.timezone).toBe('Asia/Shanghai');
    const ok = await me.put('/api/me/notification-preferences', { channels: ['wecom'], locale: 'en' });
    expect(ok.body).toMatchObject({ channels: ['in_app', 'wecom'], locale: 'en', digestTime: '08:30' });

    const refused = [
      [{ kind: 'pager', url: 'https://x.example' }, 'kind'],
      [{ kind: 'wecom', url: 'http://robots.example/hook' }, 'url'],
      [{ kind: 'feishu', url: 'not a url' }, 'url'],
      [{ kind: 'webhook', url: 'https://hooks.example/in' }, 'secret'],
    ] as const;
    for (const [body, field] of refused) {
      const res = await me.post('/api/me/notification-targets', body);
      expect([res.status, res.body.code, res.body.details?.[0]?.path]).toEqual([422, 'TARGET_INVALID', field]);
    }
    const secret = 'SEC0123456789abcdef';
    const created = await me.post('/api/me/notification-targets', { kind: 'dingtalk', name: 'Store robot', url: 'http://127.0.0.1:9/robot', secret });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'dingtalk', secretHint: '••••cdef' });
    // a repeated request (a retry after a lost answer) registers nothing twice: the robot would get every reminder twice
    const again = await me.post('/api/me/notification-targets', { kind: 'dingtalk', name: 'Store robot', url: 'http://127.0.0.1:9/robot', secret });
    expect(again.body.id).toBe(created.body.id);
    const other = await me.post('/api/me/notification-targets', { kind: 'dingtalk', name: 'Other', url: 'http://127.0.0.1:9/robot', secret });
    expect([other.status, other.body.code]).toEqual([409, 'TARGET_EXISTS']);
    const listed = await me.get('/api/me/notification-targets');
    expect(listed.body.items).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect((await w.e2.client.delete(`/api/me/notification-targets/${created.body.id}`)).status).toBe(404);
    expect((await me.patch(`/api/me/notification-targets/${created.body.id}`, { name: 'Renamed' })).body).toMatchObject({ name: 'Renamed', secretHint: '••••cdef' });
    expect((await me.delete(`/api/me/notification-targets/${created.body.id}`)).status).toBe(204);
    expect((await me.delete(`/api/me/notification-targets/${created.body.id}`)).status).toBe(404);
  });

  it('runs reminderSweepWorkflow through the worker, and keeps one Schedule for it', async () => {
    const w = await world({ dueSoonMinutes: 20 });
    const closes = at('2030-03-12T10:00:00Z');
    await w.window(new Date(closes.getTime() - 120 * MIN), closes);
    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      const client = new Client({ connection });
      const workflowId = `reminder-sweep-${stack.taskQueue}`;
      const result = await client.workflow.execute('reminderSweepWorkflow', {
        taskQueue: stack.taskQueue, workflowId, args: [{ now: closes.getTime() - 19 * MIN, tenantIds: [w.tenantId] }],
      });
      expect(result).toMatchObject({ digests: 0, dueSoon: 3, escalations: 0, deliveries: 3 });
      expect(result.sent).toBeGreaterThanOrEqual(3);
      expect(smtp.to(w.e1.email)).toHaveLength(3);
      if (process.env.RECORD_HISTORIES) saveHistory('reminderSweepWorkflow', await client.workflow.getHandle(workflowId).fetchHistory());

      await withSchedule(client, REMINDER_SWEEP_SCHEDULE, async () => {
        expect(await ensureReminderSweepSchedule(client, stack.taskQueue, '1h')).toBe('created');
        expect(await ensureReminderSweepSchedule(client, stack.taskQueue, '1h')).toBe('exists');
        const schedule = await client.schedule.getHandle(REMINDER_SWEEP_SCHEDULE).describe();
        expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reminderSweepWorkflow' });
        expect(schedule.policies.overlap).toBe('SKIP');
      });
    } finally {
      await connection.close();
    }
  });
});

/** A server-sent-event reader over fetch: next(type) resolves with the next event of that type's data. */
async function openStream(url: string, headers?: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events: { type: string; data: unknown }[] = [];
  const read = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended');
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (type && data) events.push({ type, data: JSON.parse(data) });
    }
  };
  return {
    async next(type: string, timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e) => e.type === type);
        if (i >= 0) return events.splice(i, 1)[0].data;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type} event within ${timeoutMs} ms`);
        await Promise.race([read(), new Promise((r) => setTimeout(r, left))]);
      }
    },
    close: () => controller.abort(),
  };
}
