import { broadcastStatusQuery, cancelBroadcastSignal, pauseSignal, resumeSignal, sopBroadcastWorkflow } from '@sop/workflows';
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import { saveHistory } from '../support/histories';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';
import { itWithTimeSkipping, useWorkflowEnv } from '../support/workflow-env';

const MINUTE = 60_000;
const CONTACTS = 6;

/** A broadcast paused between its pages, then resumed or cancelled: real activities on real Postgres, time-skipping server. */
describe('sopBroadcastWorkflow paused between pages (time-skipping server, real activities)', () => {
  const ctx = useStack();
  const wf = useWorkflowEnv();

  /** A broadcast to six contacts in pages of two, a minute apart, sent 30 minutes from (skipped) now; started once its first page is in. */
  async function startBroadcast() {
    const env = wf.env();
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    for (let n = 1; n <= CONTACTS; n++) {
      await t.admin.post('/api/contacts', { externalId: `p${n}`, name: `客户${n}`, ownerId: owner.id, attributes: { wave: 'w1' } });
    }
    const segment = (await t.admin.post('/api/segments', { name: 'Wave 1', rule: { attribute: { key: 'wave', op: 'eq', value: 'w1' } } })).body;
    const sendAt = DateTime.fromMillis(await env.currentTimeMs()).plus({ minutes: 30 });
    const broadcast = (await t.admin.post('/api/sops', { name: 'Paced broadcast', definition: {
      kind: 'broadcast', audience: { segmentId: segment.id }, sendAt: sendAt.toISO(),
      steps: [{ name: 'Announce', dueWithinMinutes: 600, channel: 'sms', content: { template: '{{ contact.name }}，新品上市' }, executor: { rule: 'contactOwner' } }],
    } })).body;
    expect((await t.admin.post(`/api/sops/${broadcast.id}/activate`)).status).toBe(200);
    const tasks = async () => (await ctx.stack.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts FROM tasks WHERE sop_id = $1`, [broadcast.id]))[0] as { n: number; contacts: number };
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await wf.worker(ctx.stack.db, taskQueue);
    return { env, t, broadcast, tasks, taskQueue, worker };
  }

  /** Starts the workflow and waits (in skipped seconds, well inside the minute between pages) for its first page. */
  async function untilFirstPage(b: Awaited<ReturnType<typeof startBroadcast>>) {
    const handle = await b.env.client.workflow.start(sopBroadcastWorkflow, {
      taskQueue: b.taskQueue, workflowId: `broadcast-${b.broadcast.id}`, args: [{ sopId: b.broadcast.id, pageSize: 2, pageIntervalMs: MINUTE }],
    });
    await b.env.sleep(30 * MINUTE);
    for (let i = 0; i < 100 && (await b.tasks()).n < 2; i++) await b.env.sleep(100);
    expect(await b.tasks()).toEqual({ n: 2, contacts: 2 });
    return handle;
  }

  /** The console pauses a broadcast by its status (which every page checks) and by the signal. */
  async function pause(b: Awaited<ReturnType<typeof startBroadcast>>, handle: { signal: (s: typeof pauseSignal) => Promise<void> }) {
    expect((await b.t.admin.post(`/api/sops/${b.broadcast.id}/pause`)).body.status).toBe('paused');
    await handle.signal(pauseSignal);
  }

  itWithTimeSkipping('creates no task while paused and every task once after the resume', async () => {
    const b = await startBroadcast();
    await b.worker.runUntil(async () => {
      const handle = await untilFirstPage(b);
      await pause(b, handle);
      // An hour paused: sixty page intervals pass, and no page runs.
      await b.env.sleep(60 * MINUTE);
      expect(await b.tasks()).toEqual({ n: 2, contacts: 2 });
      expect(await handle.query(broadcastStatusQuery)).toEqual({ state: 'paused', tasks: 2 });

      expect((await b.t.admin.post(`/api/sops/${b.broadcast.id}/resume`)).body.status).toBe('active');
      await handle.signal(resumeSignal);
      expect(await handle.result()).toEqual({ tasks: CONTACTS, cancelled: false });
      expect(await b.tasks()).toEqual({ n: CONTACTS, contacts: CONTACTS });
      // Idempotent after the fact too: the same broadcast run again adds nothing.
      await b.env.sleep(10 * MINUTE);
      expect(await b.tasks()).toEqual({ n: CONTACTS, contacts: CONTACTS });
      if (process.env.RECORD_HISTORIES) saveHistory('sopBroadcastWorkflow-paused-resumed', await handle.fetchHistory());
    });
  }, 180_000);

  itWithTimeSkipping('cancelled while paused: it ends without another task', async () => {
    const b = await startBroadcast();
    await b.worker.runUntil(async () => {
      const handle = await untilFirstPage(b);
      await pause(b, handle);
      await b.env.sleep(10 * MINUTE);
      expect(await b.tasks()).toEqual({ n: 2, contacts: 2 });
      expect((await b.t.admin.post(`/api/sops/${b.broadcast.id}/archive`)).body.status).toBe('archived');
      await handle.signal(cancelBroadcastSignal);
      expect(await handle.result()).toEqual({ tasks: 2, cancelled: true });
      await b.env.sleep(10 * MINUTE);
      const statuses = await ctx.stack.db.query(`SELECT status, count(*)::int AS n FROM tasks WHERE sop_id = $1 GROUP BY 1`, [b.broadcast.id]);
      expect(statuses).toEqual([{ status: 'cancelled', n: 2 }]);
      if (process.env.RECORD_HISTORIES) saveHistory('sopBroadcastWorkflow-paused-cancelled', await handle.fetchHistory());
    });
  }, 180_000);
});
