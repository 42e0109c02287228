import { planReminders } from '@sop/engine';
import { deliverDueReminders } from '@sop/worker';
import { createNotifier } from '@sop/notify';
import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant } from '../support/http';
import { SmtpSink } from '../support/smtp-sink';
import { Stack } from '../support/stack';

/**
 * The reminder target of issue 5 at full size (10,000 tasks whose due-soon moment is the same minute: every
 * in-app and email reminder out within 60 s), through a real SMTP server. Heavy, so it runs only when asked:
 * REMINDER_SCALE=1 npm test -- test/integration/reminders-scale.test.ts (SCALE_TASKS, SCALE_POOL, SCALE_CONC;
 * SCALE_BACKGROUND adds that many other pending tasks spread over a month, to show planning reads only the due ones).
 */
const N = Number(process.env.SCALE_TASKS ?? 10000);
const USERS = 500;
const maybe = process.env.REMINDER_SCALE ? it : it.skip;

maybe(`plans and delivers ${N} due-soon reminders (in-app and email) within 60 s`, async () => {
  const smtp = await SmtpSink.start();
  const stack = await Stack.start({ smtpUrl: smtp.url });
  try {
    const http = new Http(stack.baseUrl);
    const t = await signupTenant(http);
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name: 'S', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'Scale', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: 'x' }, executor: { rule: 'contactOwner' }, reminder: { dueSoonMinutes: 20 } }],
      policies: { businessDaysOnly: false } } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const db = stack.db;
    const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sop.id]);
    const [{ id: versionId }] = await db.query(`SELECT id FROM sop_versions WHERE sop_id = $1`, [sop.id]);
    await db.query(`INSERT INTO users (tenant_id, email, name, role, password_hash)
      SELECT $1::uuid, 'scale-' || g || '-' || $1::text || '@test.example', 'Scale ' || g, 'employee', 'x' FROM generate_series(1, ${USERS}) g`, [tenantId]);
    await db.query(`INSERT INTO contacts (tenant_id, external_id, name) SELECT $1::uuid, 'sc' || g, '客户' || g FROM generate_series(1, ${N}) g`, [tenantId]);
    const closes = new Date('2031-01-01T10:00:00Z');
    await db.query(`
      INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, occurrence, contact_id, executor_id, channel, content, due_at, due_until)
      SELECT $1, $2, $3, 0, $4::timestamptz, c.id, u.ids[1 + (row_number() OVER ()) % ${USERS}], 'phone_call', 'x', $4::timestamptz - interval '2 hours', $4
        FROM contacts c, (SELECT array_agg(id) ids FROM users WHERE tenant_id = $1 AND email LIKE 'scale-%') u WHERE c.tenant_id = $1`,
      [tenantId, sop.id, versionId, closes]);
    const background = Number(process.env.SCALE_BACKGROUND ?? 0);
    if (background) {
      await db.query(`
        INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, occurrence, group_id, executor_id, channel, content, due_at, due_until)
        SELECT $1, $2, $3, 0, $4::timestamptz + g * interval '1 second', NULL, u.ids[1 + g % ${USERS}], 'phone_call', 'x',
               $4::timestamptz + (g % 43200) * interval '1 minute' - interval '15 days',
               $4::timestamptz + (g % 43200) * interval '1 minute' - interval '15 days' + interval '2 hours'
          FROM generate_series(1, $5::int) g, (SELECT array_agg(id) ids FROM users WHERE tenant_id = $1 AND email LIKE 'scale-%') u
         WHERE (g % 43200) NOT BETWEEN 21400 AND 21700`, // none due or closing around the measured minutes
        [tenantId, sop.id, versionId, closes, background]);
    }
    await db.query('ANALYZE tasks');
    await planReminders(db, new Date(closes.getTime() - 30 * 60_000), [tenantId]);
    const now = new Date(closes.getTime() - 20 * 60_000);
    let started = Date.now();
    const planned = await planReminders(db, now, [tenantId]);
    const planMs = Date.now() - started;
    started = Date.now();
    const notifier = createNotifier({ smtp: { url: smtp.url, from: 'x <x@test.example>', pool: Number(process.env.SCALE_POOL ?? 5) } });
    const run = await deliverDueReminders(db, notifier, { now, onlyTenants: [tenantId], concurrency: Number(process.env.SCALE_CONC ?? 32) });
    await notifier.close();
    const deliverMs = Date.now() - started;
    started = Date.now();
    const idle = await planReminders(db, new Date(now.getTime() + 60_000), [tenantId]);
    const idleSweepMs = Date.now() - started;
    expect(idle).toMatchObject({ dueSoon: 0 });
    await smtp.waitFor(N, 60_000);
    console.log(JSON.stringify({ tasks: N, background, planned, planMs, run, deliverMs, idleSweepMs, mails: smtp.received.length }));
    expect(planned).toMatchObject({ dueSoon: N, deliveries: N });
    expect(run.sent).toBe(N);
    expect(planMs + deliverMs).toBeLessThan(60_000);
  } finally {
    await stack.stop();
    await smtp.stop();
  }
}, 300_000);
