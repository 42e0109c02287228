import { workflowIds } from '@sop/temporal';
import type { sopBroadcastWorkflow } from '@sop/workflows';
import type { ChildProcess } from 'node:child_process';
import { countTasks, expectBroadcastExact, expectJourneyExact, faultWorld, expectRepeatsWithin, finishReminders, runSweeps, useFaultStack, waitForOpenPage, waitForTasks } from '../support/fault-world';
import { Http } from '../support/http';
import { killHard, niceness } from '../support/processes';

const CONTACTS = 100_000;
const BROADCAST = 1_000;

/**
 * Issue 14's fourth fault: two worker processes and two API processes serve one tenant at once, as
 * `docker compose up --scale worker=2` with two API replicas does. The tenant is set up through one API and its SOPs
 * activated through the other; executors complete tasks through both (some through both at the same moment); one
 * worker is killed with SIGKILL mid-dispatch and the other finishes alone. Totals are exact.
 */
describe('fault: two workers and two API processes serving one tenant, one worker killed', () => {
  const f = useFaultStack();

  it('keeps every total exact with traffic through both APIs and one of two workers killed', async () => {
    const { smtp, stack, processes, client } = f;
    const t0 = Date.now();
    const [a, b] = await Promise.all([processes.api('api A'), processes.api('api B')]);
    const apiA = new Http(a.baseUrl);
    const world = await faultWorld(apiA, stack.db, { journeyContacts: CONTACTS, broadcastContacts: BROADCAST, label: 'Scale out' });
    // the same logins, through the other API (one JWT secret, as replicas share it)
    const adminB = new Http(b.baseUrl, world.t.admin.headers);
    const tSeeded = Date.now();
    const workerEnv = { SMTP_URL: smtp.url, APP_URL: a.baseUrl };
    // worker 1 (killed below) yields the CPU as deployed (WORKER_NICE, 10 by default); worker 2 does not
    const [w1, w2]: ChildProcess[] = await Promise.all([processes.worker('worker 1', { ...workerEnv, WORKER_NICE: '10' }), processes.worker('worker 2', workerEnv)]);
    expect([niceness(w1), niceness(w2)]).toEqual([10, 0]);

    expect((await adminB.post(`/api/sops/${world.journeyId}/activate`)).body).toMatchObject({ status: 'active' });
    const broadcastId = await world.createBroadcast(3000);
    expect((await world.t.admin.post(`/api/sops/${broadcastId}/activate`)).body).toMatchObject({ status: 'active' });
    const sweeps = runSweeps(client, stack.taskQueue, world.tenantId);

    // Kill worker 1 while a page's transaction is open in a worker session (either worker's: both run pages).
    await waitForOpenPage(stack.db, world.journeyId, Math.floor(CONTACTS * 0.4), processes);
    await killHard(w1);
    const tKilled = Date.now();
    const atKill = await countTasks(stack.db, world.journeyId);
    // Entrants through both APIs while one worker is gone: the wake relay of the worker left wakes the journey.
    expect((await world.addJourneyContact(world.t.admin, 'journey-via-a')).status).toBe(201);
    expect((await world.addJourneyContact(adminB, 'journey-via-b')).status).toBe(201);

    await waitForTasks(stack.db, client, world.journeyId, CONTACTS + 2, 240_000);
    const tJourney = Date.now();
    const broadcast = await client.workflow.getHandle<typeof sopBroadcastWorkflow>(workflowIds.sopBroadcast(broadcastId)).result();
    const late = await finishReminders(stack.db, stack.notifier, world, BROADCAST, a.baseUrl, sweeps, () => processes.tail());
    expect(w2.exitCode).toBeNull();

    // Executors complete broadcast tasks through A, through B, and some through both at the same moment.
    const completed: string[] = [];
    const statuses: number[] = [];
    for (const e of world.executors) {
      const viaA = e.client;
      const viaB = new Http(b.baseUrl, e.client.headers);
      const ids: string[] = (await stack.db.query(
        `SELECT id::text FROM tasks WHERE sop_id = $1 AND executor_id = $2 ORDER BY id LIMIT 30`, [broadcastId, e.id])).map((r: { id: string }) => r.id);
      expect(ids).toHaveLength(30);
      for (const [i, id] of ids.entries()) {
        const body = { outcome: 'replied', note: `via ${i % 3}` };
        const replies = i % 3 === 0 ? [await viaA.post(`/api/inbox/tasks/${id}/complete`, body)]
          : i % 3 === 1 ? [await viaB.post(`/api/inbox/tasks/${id}/complete`, body)]
          : await Promise.all([viaA.post(`/api/inbox/tasks/${id}/complete`, body), viaB.post(`/api/inbox/tasks/${id}/complete`, body)]);
        statuses.push(...replies.map((r) => r.status));
        expect(replies.some((r) => r.status === 200)).toBe(true);
        completed.push(id);
      }
    }
    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);

    await expectJourneyExact(stack.db, world, CONTACTS + 2);
    const emails = await expectBroadcastExact(stack.db, smtp, world, broadcastId, BROADCAST);
    expectRepeatsWithin(emails, 1);
    // one completion event and one response per completed task, however many APIs it was completed through
    const [done] = await stack.db.query(
      `SELECT (SELECT count(*)::int FROM tasks WHERE id = ANY($1::bigint[]) AND status = 'done') AS done,
              (SELECT count(*)::int FROM task_events WHERE task_id = ANY($1::bigint[]) AND action = 'completed') AS events,
              (SELECT count(*)::int FROM responses WHERE task_id = ANY($1::bigint[])) AS responses,
              (SELECT count(DISTINCT task_id)::int FROM responses WHERE task_id = ANY($1::bigint[])) AS "respondedTasks"`, [completed]);
    expect(done).toEqual({ done: completed.length, events: completed.length, responses: completed.length, respondedTasks: completed.length });

    console.log(`[fault-scale-out] seeded in ${tSeeded - t0} ms; worker 1 killed at ${atKill} tasks, ${tKilled - tSeeded} ms after seeding; `
      + `all ${CONTACTS + 2} journey tasks ${tJourney - tKilled} ms after the kill; broadcast ${JSON.stringify(broadcast)}; `
      + `sweeps and late deliveries ${JSON.stringify(late)}; emails ${JSON.stringify(emails)}; completions answered ${JSON.stringify(countBy(statuses))}; `
      + `whole test ${Date.now() - t0} ms`);
  }, 600_000);
});

function countBy(values: number[]): Record<string, number> {
  return values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
}
