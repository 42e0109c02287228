import { compareRollups, enrollEntrants, lockTenantRollups, materializeDuePage, rebuildRollups } from '@sop/engine';
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { testEnv } from '../support/env';
import { eventKey, sendEvents } from '../support/events';
import { saveHistory } from '../support/histories';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const HOUR = 3600_000;
/** A 2xx answer, or the test fails naming what came back. */
const ok = (res: { status: number; body: unknown }) => {
  if (res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res;
};

/**
 * Issue 13, data design: tasks change in every way (create, complete, skip, expire, cancel, reassign, hand over,
 * response, purchase, delete) and after each the trigger-kept rollups equal a recount from the raw rows.
 */
describe('task rollups and expiry (real Postgres and Temporal)', () => {
  const ctx = useStack({ worker: true });
  const db = () => ctx.stack.db;

  async function world() {
    const t = await signupTenant(ctx.http);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const manager = await addUser(t, ctx.http, 'manager', { teamId: team.id });
    await t.admin.patch(`/api/teams/${team.id}`, { managerId: manager.id });
    const e1 = await addUser(t, ctx.http, 'employee', { teamId: team.id });
    const e2 = await addUser(t, ctx.http, 'employee', { teamId: team.id });
    const [{ tenant_id: tenantId }] = await db().query(`SELECT tenant_id FROM users WHERE id = $1`, [e1.id]);
    await db().query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone)
       SELECT $1, 'c' || g, '客户' || g, CASE WHEN g <= 20 THEN $2::uuid ELSE $3::uuid END, $4 FROM generate_series(1, 30) g`,
      [tenantId, e1.id, e2.id, zoneWithOpenWindow()]); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const everyone = (await t.admin.post('/api/segments', { name: 'Everyone', rule: { metric: { name: 'orderCount', op: 'gte', value: 0 } } })).body;
    const step = (name: string) => ({
      name, offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat', executor: { rule: 'contactOwner' },
      content: { template: '您好 {{ contact.name }}', variants: [{ name: 'A', weight: 1, template: 'A {{ contact.name }}' }, { name: 'B', weight: 1, template: 'B {{ contact.name }}' }] },
    });
    const sop = (await t.admin.post('/api/sops', { name: 'Welcome 欢迎', definition: {
      kind: 'journey', audience: { segmentId: everyone.id }, entry: { includeExistingMembers: true },
      steps: [step('Hello'), step('Follow up')], policies: { businessDaysOnly: false, exitOn: [] },
    } })).body;
    ok(await t.admin.post(`/api/sops/${sop.id}/activate`));
    await enrollEntrants(db(), sop.id, new Date());
    // both steps fall due today: pages run until nothing is due (the worker's dispatcher may take some rows)
    for (let i = 0; i < 10; i++) while ((await materializeDuePage(db(), sop.id, new Date(), 1000)).more);
    const tasksOf = async (contact: string) => (await db().query(
      `SELECT t.id::text, t.step_index FROM tasks t JOIN contacts c ON c.id = t.contact_id WHERE c.tenant_id = $1 AND c.external_id = $2 ORDER BY step_index`,
      [tenantId, contact])) as { id: string; step_index: number }[];
    return { t, tenantId, team, manager, e1, e2, sop, tasksOf };
  }

  const agrees = async (tenantId: string) => expect(await compareRollups(db(), tenantId)).toEqual([]);
  const totals = async (tenantId: string) => (await db().query(
    `SELECT sum(created)::int AS created, sum(pending)::int AS pending, sum(done)::int AS done, sum(skipped)::int AS skipped,
            sum(expired)::int AS expired, sum(cancelled)::int AS cancelled, sum(responded)::int AS responded, sum(converted)::int AS converted,
            sum(purchases)::int AS purchases, sum(revenue)::float AS revenue
       FROM task_rollups_executor WHERE tenant_id = $1`, [tenantId]))[0];

  it('keeps the rollups equal to a recount through every kind of change, and expires tasks by the sweep', async () => {
    const w = await world();
    const [{ n: created }] = await db().query(`SELECT count(*)::int AS n FROM tasks WHERE tenant_id = $1`, [w.tenantId]);
    expect(created).toBe(60);
    await agrees(w.tenantId);
    expect(await totals(w.tenantId)).toMatchObject({ created: 60, pending: 60, done: 0 });
    const [{ variants }] = await db().query(`SELECT count(DISTINCT variant)::int AS variants FROM task_rollups_sop WHERE tenant_id = $1`, [w.tenantId]);
    expect(variants).toBe(2);

    // complete (one with an outcome that reports a reply), skip, reassign in the inbox
    const c1 = await w.tasksOf('c1');
    const c2 = await w.tasksOf('c2');
    const c3 = await w.tasksOf('c3');
    const c4 = await w.tasksOf('c4');
    const e1 = w.e1.client;
    ok(await e1.post(`/api/inbox/tasks/${c1[0].id}/complete`, { outcome: 'sent' }));
    ok(await e1.post(`/api/inbox/tasks/${c1[1].id}/complete`, { outcome: 'sent' }));
    ok(await e1.post(`/api/inbox/tasks/${c2[0].id}/complete`, { outcome: 'replied' }));
    ok(await e1.post(`/api/inbox/tasks/${c3[0].id}/skip`, { reason: '客户出差 away' }));
    ok(await e1.post(`/api/inbox/tasks/${c4[0].id}/reassign`, { executorId: w.e2.id }));
    await agrees(w.tenantId);
    expect(await totals(w.tenantId)).toMatchObject({ done: 3, skipped: 1, responded: 1 });
    // the outcome "replied" counts for its own task (done in the same transaction)
    const [c2first] = await db().query(`SELECT responses FROM tasks WHERE id = $1`, [c2[0].id]);
    expect(c2first.responses).toBe(1);

    // responses from other systems: a reply and a purchase of c1 count for its latest done task (step 2) only
    const key = await eventKey(w.t);
    const reply = await sendEvents(ctx.http, key, { id: 'r1', type: 'reply', externalId: 'c1', data: {} });
    expect(reply.status).toBe(200);
    const bought = await sendEvents(ctx.http, key, { id: 'p1', type: 'purchase', externalId: 'c1', data: { orderId: 'SO-1', amount: 99.5, currency: 'CNY' } });
    expect(bought.status).toBe(200);
    // c5 has no done task: its reply counts for nothing
    await sendEvents(ctx.http, key, { id: 'r5', type: 'reply', externalId: 'c5', data: {} });
    const figures = await db().query(`SELECT id::text, responses, purchases, revenue::float FROM tasks WHERE id = ANY($1::bigint[]) ORDER BY step_index`,
      [[c1[0].id, c1[1].id]]);
    expect(figures).toEqual([
      { id: c1[0].id, responses: 0, purchases: 0, revenue: 0 },
      { id: c1[1].id, responses: 2, purchases: 1, revenue: 99.5 },
    ]);
    await agrees(w.tenantId);
    expect(await totals(w.tenantId)).toMatchObject({ responded: 2, converted: 1, purchases: 1, revenue: 99.5 });

    // hand over: e2's contacts and open tasks to e1. A task moved to another executor is -1 and +1 of the same facts
    // for the SOP rollups: their rows are not written at all (same row versions), only the executor rollup's.
    const versions = async (table: string) => (await db().query(
      `SELECT xmin::text AS v FROM ${table} WHERE tenant_id = $1 ORDER BY ctid`, [w.tenantId])).map((r: { v: string }) => r.v).join();
    const [sopBefore, sopDayBefore, executorBefore] = [await versions('task_rollups_sop'), await versions('task_rollups_sop_day'), await versions('task_rollups_executor')];
    ok(await w.t.admin.post('/api/handovers', { id: randomUUID(), fromUserId: w.e2.id, toUserId: w.e1.id, reason: 'left' }));
    await agrees(w.tenantId);
    expect([await versions('task_rollups_sop'), await versions('task_rollups_sop_day')]).toEqual([sopBefore, sopDayBefore]);
    expect(await versions('task_rollups_executor')).not.toBe(executorBefore);

    // expiry: one window closed 30 h ago (past the 24 h grace), one closed 1 h ago (overdue, not yet expired)
    const c6 = await w.tasksOf('c6');
    const c7 = await w.tasksOf('c7');
    const now = Date.now();
    await db().query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [c6[0].id, new Date(now - 32 * HOUR), new Date(now - 30 * HOUR)]);
    await db().query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [c7[0].id, new Date(now - 3 * HOUR), new Date(now - HOUR)]);
    await agrees(w.tenantId); // a task moved to another day moves its counts with it
    const overdue = async () => (await e1.get('/api/inbox/tasks?list=overdue')).body.items.map((x: { id: string }) => x.id).sort();
    expect(await overdue()).toEqual([c6[0].id, c7[0].id].sort());
    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      const client = new Client({ connection });
      const workflowId = `reminder-sweep-expiry-${ctx.stack.taskQueue}`;
      const result = await client.workflow.execute('reminderSweepWorkflow', {
        taskQueue: ctx.stack.taskQueue, workflowId, args: [{ now, tenantIds: [w.tenantId] }],
      });
      expect(result).toMatchObject({ expired: 1 });
      if (process.env.RECORD_HISTORIES) saveHistory('reminderSweepWorkflow-expiry', await client.workflow.getHandle(workflowId).fetchHistory());
    } finally {
      await connection.close();
    }
    expect(await overdue()).toEqual([c7[0].id]);
    const [expired] = await db().query(`SELECT status, finished_at FROM tasks WHERE id = $1`, [c6[0].id]);
    expect(expired.status).toBe('expired');
    const history = (await e1.get(`/api/inbox/tasks/${c6[0].id}`)).body.history;
    expect(history.map((h: { action: string }) => h.action)).toContain('expired');
    await agrees(w.tenantId);
    // a longer grace keeps c7 pending; none expires twice
    const again = await import('@sop/engine').then((e) => e.expireTasks(db(), new Date(now), [w.tenantId]));
    expect(again).toEqual({ expired: 0 });

    // cancel: archiving the SOP cancels what is left
    ok(await w.t.admin.post(`/api/sops/${w.sop.id}/archive`));
    await agrees(w.tenantId);
    const after = await totals(w.tenantId);
    expect(after).toMatchObject({ created: 60, pending: 0, done: 3, skipped: 1, expired: 1, cancelled: 55 });

    // deleting a contact takes its tasks and responses, and their counts, away
    await db().query(`DELETE FROM contacts WHERE tenant_id = $1 AND external_id = 'c1'`, [w.tenantId]);
    await agrees(w.tenantId);
    expect(await totals(w.tenantId)).toMatchObject({ created: 58, done: 1, responded: 1, purchases: 0, revenue: 0 });

    // the rebuild command's work gives the same rows
    const progress: unknown[] = [];
    const rebuilt = await rebuildRollups(db(), { tenantIds: [w.tenantId], onProgress: (p) => progress.push(p) });
    expect(rebuilt.tenants).toBe(1);
    expect(progress).toHaveLength(1);
    await agrees(w.tenantId);
    expect(await totals(w.tenantId)).toMatchObject({ created: 58, done: 1, responded: 1 });
  });

  it("takes the organization's rollup lock once per transaction, still before the first row, after a rolled-back savepoint and in replica role", async () => {
    const w = await world();
    const tasks: string[] = (await db().query(`SELECT id::text FROM tasks WHERE tenant_id = $1 ORDER BY id`, [w.tenantId])).map((r: { id: string }) => r.id);
    expect(tasks.length).toBe(60);
    const writer = db().createQueryRunner();
    const rebuild = db().createQueryRunner();
    await writer.connect();
    await rebuild.connect();
    /** Whether a rebuild could take the organization's lock right now (asked from another connection, released at once). */
    const rebuildMayLock = async () => {
      await rebuild.startTransaction();
      try {
        return await lockTenantRollups(rebuild, w.tenantId, true);
      } finally {
        await rebuild.rollbackTransaction();
      }
    };
    // calls of the lock function counted in this backend (Postgres may still hold an earlier transaction's count
    // unflushed: each transaction compares with its own start)
    const calls = async () => Number((await writer.query(`SELECT coalesce(pg_stat_get_xact_function_calls('rollups_tenant_share_lock'::regproc), 0) AS n`))[0].n);
    try {
      await writer.startTransaction();
      await writer.query(`SET LOCAL track_functions = 'pl'`);
      let before = await calls();
      expect(await rebuildMayLock()).toBe(true);
      // 60 rows in one statement, then 30 more in another: the lock function runs once (it ran once per row: 90 calls)
      await writer.query(`UPDATE tasks SET note = 'a' WHERE tenant_id = $1`, [w.tenantId]);
      await writer.query(`UPDATE tasks SET note = 'b' WHERE tenant_id = $1 AND id = ANY($2::bigint[])`, [w.tenantId, tasks.slice(0, 30)]);
      expect(await calls() - before).toBe(1);
      // and the lock is held: a rebuild cannot take it until the writer ends
      expect(await rebuildMayLock()).toBe(false);
      await writer.rollbackTransaction();
      expect(await rebuildMayLock()).toBe(true);

      // A savepoint rolled back gives its lock back: the next write takes it again before its row.
      await writer.startTransaction();
      await writer.query(`SET LOCAL track_functions = 'pl'`);
      before = await calls();
      await writer.query(`SAVEPOINT s`);
      await writer.query(`UPDATE tasks SET note = 'c' WHERE id = $1`, [tasks[0]]);
      expect(await rebuildMayLock()).toBe(false);
      await writer.query(`ROLLBACK TO SAVEPOINT s`);
      expect(await rebuildMayLock()).toBe(true);
      await writer.query(`DELETE FROM task_events WHERE task_id = $1`, [tasks[1]]); // (not a task write: no lock)
      expect(await rebuildMayLock()).toBe(true);
      await writer.query(`UPDATE tasks SET note = 'd' WHERE id = $1`, [tasks[1]]);
      expect(await rebuildMayLock()).toBe(false);
      expect(await calls() - before).toBe(2);
      await writer.rollbackTransaction();

      // In replica role (per-row foreign-key checks off: the import's merge, the handover's moves) the lock and the
      // rollups still follow every write (they were skipped there).
      await writer.startTransaction();
      await writer.query(`SET LOCAL session_replication_role = replica`);
      await writer.query(`UPDATE tasks SET status = 'skipped', skip_reason = 'x', finished_at = now() WHERE id = $1`, [tasks[2]]);
      expect(await rebuildMayLock()).toBe(false);
      await writer.query(`DELETE FROM tasks WHERE id = $1`, [tasks[3]]);
      await writer.commitTransaction();
      await agrees(w.tenantId);
      expect(await totals(w.tenantId)).toMatchObject({ created: 59, pending: 58, skipped: 1 });
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
      await rebuild.release();
    }
  });

  it("rebuilds one organization's rollups without holding back another organization's task and response writes", async () => {
    const [a, b] = [await world(), await world()];
    const [a1, b1, b2] = [await a.tasksOf('c1'), await b.tasksOf('c1'), await b.tasksOf('c2')];
    const settled = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms))]);

    // Organization A's rebuild lock, held in an open transaction as a rebuild holds it.
    const held = db().createQueryRunner();
    await held.connect();
    await held.startTransaction();
    let aWrite: Promise<{ status: number }> | undefined;
    try {
      expect(await lockTenantRollups(held, a.tenantId)).toBe(true);
      // B's task writes and responses go on (with a table-wide lock they waited)
      const bDone = b.e1.client.post(`/api/inbox/tasks/${b1[0].id}/complete`, { outcome: 'sent' });
      expect(await settled(bDone, 5000)).toBe(true);
      expect((await bDone).status).toBe(200);
      expect((await sendEvents(ctx.http, await eventKey(b.t), { id: 'r-b1', type: 'reply', externalId: 'c1', data: {} })).status).toBe(200);
      // and so does B's own settings change, with its rebuild
      ok(await b.t.admin.put('/api/settings/task-results', { timezone: 'Asia/Shanghai', taskExpiryGraceHours: 24, attributionWindowDays: 5 }));
      // A's writer waits for A's rebuild; a second rebuild of A is refused at once, its settings unchanged
      aWrite = a.e1.client.post(`/api/inbox/tasks/${a1[0].id}/complete`, { outcome: 'sent' });
      expect(await settled(aWrite, 1500)).toBe(false);
      const busy = await a.t.admin.put('/api/settings/task-results', { timezone: 'UTC', taskExpiryGraceHours: 24, attributionWindowDays: 7 });
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('ROLLUP_REBUILD_BUSY');
      expect((await a.t.admin.get('/api/settings/task-results')).body.timezone).toBe('Asia/Shanghai');
    } finally {
      await held.commitTransaction();
      await held.release();
    }
    expect((await aWrite!).status).toBe(200);

    // A real rebuild of A while B's tasks are completed: both go through, and every rollup equals its recount.
    const [rebuilt, bAgain] = await Promise.all([
      rebuildRollups(db(), { tenantIds: [a.tenantId] }),
      b.e1.client.post(`/api/inbox/tasks/${b2[0].id}/complete`, { outcome: 'replied' }),
    ]);
    expect(rebuilt.tenants).toBe(1);
    expect(bAgain.status).toBe(200);
    await agrees(a.tenantId);
    await agrees(b.tenantId);
    expect(await totals(a.tenantId)).toMatchObject({ done: 1 });
    expect(await totals(b.tenantId)).toMatchObject({ done: 2, responded: 2 });
    const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM task_rollups_sop_day WHERE tenant_id = $1`, [b.tenantId]);
    expect(n).toBeGreaterThan(0);
  });
});
