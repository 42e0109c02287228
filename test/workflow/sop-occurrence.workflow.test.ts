import { sopBroadcastWorkflow, sopOccurrenceWorkflow } from '@sop/workflows';
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { itWithTimeSkipping, useWorkflowEnv } from '../support/workflow-env';

const MINUTE = 60_000;

/** Recurring firings and broadcasts with their real activities on real Postgres, on the time-skipping server. */
describe('occurrence workflows (time-skipping server, real activities)', () => {
  const ctx = useStack();
  const wf = useWorkflowEnv();

  const worker = (taskQueue: string) => wf.worker(ctx.stack.db, taskQueue);

  itWithTimeSkipping('creates exactly one morning-report task per group per day, across a worker restart and a repeated firing', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    for (const name of ['群 A', '群 B', '群 C']) await t.admin.post('/api/groups', { name, ownerId: owner.id });
    const report = (await t.admin.post('/api/sops', { name: 'Morning report', definition: {
      kind: 'recurring', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' },
      steps: [{ name: 'Report', dueWithinMinutes: 60, channel: 'group_chat', content: { template: '{{ group.name }} 早报' }, executor: { rule: 'groupOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${report.id}/activate`)).status).toBe(200);
    const [{ anchor }] = await ctx.stack.db.query(`SELECT min(published_at) AS anchor FROM sop_versions WHERE sop_id = $1`, [report.id]);
    const first = DateTime.fromJSDate(anchor, { zone: 'Asia/Shanghai' }).plus({ days: 1 }).set({ hour: 8, minute: 30, second: 0, millisecond: 0 });
    const taskQueue = `wf-${randomUUID()}`;

    // Day 1 fires on a first worker, which then stops; after the restart a second worker sees the same firing
    // again (a Schedule catching up after downtime fires it once more) and then day 2.
    const fire = (day: number, run: string) => env.client.workflow.execute(sopOccurrenceWorkflow, {
      taskQueue, workflowId: `morning-${report.id}-${day}-${run}`, args: [{ sopId: report.id, occurrence: first.plus({ days: day - 1 }).toMillis(), pageSize: 2 }],
    });
    const before = await worker(taskQueue);
    expect(await before.runUntil(fire(1, 'a'))).toEqual({ occurrence: first.toMillis(), tasks: 3 });
    const after = await worker(taskQueue);
    await after.runUntil(async () => {
      expect(await fire(1, 'b')).toEqual({ occurrence: first.toMillis(), tasks: 0 });
      expect(await fire(2, 'a')).toEqual({ occurrence: first.plus({ days: 1 }).toMillis(), tasks: 3 });
    });
    const perDay = await ctx.stack.db.query(
      `SELECT to_char(occurrence AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS day, count(*)::int AS tasks, count(DISTINCT group_id)::int AS groups
         FROM tasks WHERE sop_id = $1 GROUP BY 1 ORDER BY 1`, [report.id]);
    expect(perDay).toEqual([
      { day: first.toFormat('yyyy-MM-dd HH:mm'), tasks: 3, groups: 3 },
      { day: first.plus({ days: 1 }).toFormat('yyyy-MM-dd HH:mm'), tasks: 3, groups: 3 },
    ]);
  });

  itWithTimeSkipping('cancels a broadcast to 100,000 contacts half-way: no task is created after the cancel', async () => {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM users WHERE id = $1`, [owner.id]);
    await ctx.stack.db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes)
       SELECT $1, 'bc-' || g, '客户 ' || g, $2, '{"wave": "w1"}' FROM generate_series(1, 100000) g`, [tenantId, owner.id]);
    const segment = (await t.admin.post('/api/segments', { name: 'Wave 1', rule: { attribute: { key: 'wave', op: 'eq', value: 'w1' } } })).body;
    const sendAt = DateTime.fromMillis(await env.currentTimeMs()).plus({ minutes: 30 });
    const broadcast = (await t.admin.post('/api/sops', { name: 'Big broadcast', definition: {
      kind: 'broadcast', audience: { segmentId: segment.id }, sendAt: sendAt.toISO(),
      steps: [{ name: 'Announce', dueWithinMinutes: 600, channel: 'sms', content: { template: '{{ contact.name }}，新品上市' }, executor: { rule: 'contactOwner' } }],
    } })).body;
    expect((await t.admin.post(`/api/sops/${broadcast.id}/activate`)).status).toBe(200);
    const count = async () => (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [broadcast.id]))[0].n;

    const taskQueue = `wf-${randomUUID()}`;
    const w = await worker(taskQueue);
    await w.runUntil(async () => {
      const handle = await env.client.workflow.start(sopBroadcastWorkflow, {
        taskQueue, workflowId: `broadcast-${broadcast.id}`, args: [{ sopId: broadcast.id, pageSize: 5000, pageIntervalMs: MINUTE }],
      });
      await env.sleep(30 * MINUTE);
      expect(await count()).toBeLessThanOrEqual(5000); // nothing before the send time (the first page may be under way)
      while ((await count()) < 50_000) await env.sleep(MINUTE);
      const archived = await t.admin.post(`/api/sops/${broadcast.id}/archive`);
      expect(archived.body.status).toBe('archived');
      const atCancel = await count();
      await handle.signal('cancel');
      expect(await handle.result()).toMatchObject({ cancelled: true });
      await env.sleep(10 * MINUTE);
      expect(await count()).toBe(atCancel);
      expect(atCancel).toBeGreaterThanOrEqual(50_000);
      expect(atCancel).toBeLessThan(100_000);
      const statuses = await ctx.stack.db.query(`SELECT status, count(*)::int AS n FROM tasks WHERE sop_id = $1 GROUP BY 1`, [broadcast.id]);
      expect(statuses).toEqual([{ status: 'cancelled', n: atCancel }]);
    });
  }, 180_000);
});
