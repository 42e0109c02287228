import { workflowIds } from '@sop/temporal';
import type { sopBroadcastWorkflow } from '@sop/workflows';
import type { ChildProcess } from 'node:child_process';
import { countTasks, expectBroadcastExact, expectJourneyExact, expectRepeatsWithin, finishReminders, startFaultRun, useFaultStack, waitForTasks } from '../support/fault-world';
import { killHard, sleep } from '../support/processes';

const CONTACTS = 100_000;
const BROADCAST = 5_000;
/** the broadcast's send time after activation: its pages run between the first kills */
const BROADCAST_AFTER_MS = 20_000;
const KILLS = 10;

/**
 * Issue 14's first fault: one worker process, killed with SIGKILL ten times while it dispatches a 100,000-task
 * journey, sends a broadcast and runs reminder sweeps (planning due-soon notifications, sending their emails to a
 * real SMTP server); a new worker starts after each kill, as compose's restart policy does. At the end every task,
 * enrollment, notification, delivery and email exists exactly once.
 */
describe('fault: the worker killed with SIGKILL ten times mid-dispatch, with a broadcast and reminder sweeps running', () => {
  const f = useFaultStack();

  it('creates every task, enrollment, notification and email exactly once across ten kills', async () => {
    const { smtp, stack, processes, client } = f;
    const t0 = Date.now();
    const run = await startFaultRun(f, {
      label: 'Ten kills', journeyContacts: CONTACTS, broadcastContacts: BROADCAST, broadcastInMs: BROADCAST_AFTER_MS, workerName: 'worker 1',
    });
    const { world, tSeeded, workerEnv, broadcastId, sweeps } = run;
    let worker: ChildProcess = run.worker;

    // Ten kills, each while the worker holds a page's transaction open, spread over the dispatch; a new worker
    // starts at once after each.
    const kills: { at: number; tasks: number; broadcastTasks: number; ms: number }[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const target = Math.floor((k * CONTACTS) / (KILLS + 1));
      const until = Date.now() + 180_000;
      for (;;) {
        const [row] = await stack.db.query(
          `SELECT (SELECT count(*)::int FROM tasks WHERE sop_id = $1) AS n, (SELECT count(*)::int FROM tasks WHERE sop_id = $2) AS b,
                  EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $3
                             AND xact_start IS NOT NULL) AS busy`, [world.journeyId, broadcastId, processes.workerSessions]);
        // one kill lands in the middle of the broadcast's pages when it can be caught there
        const midBroadcast = row.b > 0 && row.b < BROADCAST && !kills.some((kill) => kill.broadcastTasks > 0 && kill.broadcastTasks < BROADCAST);
        if (row.busy && (row.n >= target || midBroadcast)) break;
        if (Date.now() > until) throw new Error(`kill ${k}: timed out waiting for ${target} tasks (${row.n}); the workers said:\n${processes.tail()}`);
        await sleep(20);
      }
      const at = Date.now();
      await killHard(worker);
      kills.push({ at: at - tSeeded, tasks: await countTasks(stack.db, world.journeyId), broadcastTasks: await countTasks(stack.db, broadcastId), ms: 0 });
      worker = await processes.worker(`worker ${k + 1}`, workerEnv);
      kills[kills.length - 1].ms = Date.now() - at;
    }
    expect(kills.every((kill) => kill.tasks < CONTACTS)).toBe(true);
    // the broadcast ran while the kills went on: its first tasks came before the last kill
    expect(kills[kills.length - 1].broadcastTasks).toBeGreaterThan(0);
    expect(kills[0].broadcastTasks).toBeLessThan(BROADCAST);

    await waitForTasks(stack.db, client, world.journeyId, CONTACTS, 240_000);
    const tJourney = Date.now();
    const broadcast = await client.workflow.getHandle<typeof sopBroadcastWorkflow>(workflowIds.sopBroadcast(broadcastId)).result();
    const tBroadcast = Date.now();
    const late = await finishReminders(stack.db, stack.notifier, world, BROADCAST, stack.baseUrl, sweeps, () => processes.tail());
    const tDone = Date.now();

    await expectJourneyExact(stack.db, world, CONTACTS);
    const emails = await expectBroadcastExact(stack.db, smtp, world, broadcastId, BROADCAST);
    // A worker killed between the SMTP server's "250 OK" and its write of "sent" sends that email again after the
    // lease, with the same Message-ID, which receivers take for the same message; reported, and held to a bound.
    console.log(`[fault-worker-kills] seeded in ${tSeeded - t0} ms; kills (ms after seeding, journey tasks, broadcast tasks, ms to a polling `
      + `worker): ${JSON.stringify(kills)}; journey done ${tJourney - tSeeded} ms after seeding, broadcast ${tBroadcast - tSeeded} ms `
      + `(workflow says ${JSON.stringify(broadcast)}); sweeps and late deliveries ${JSON.stringify(late)}; emails ${emails.emails} `
      + `(${emails.distinctEmails} distinct); whole test ${tDone - t0} ms`);
    expectRepeatsWithin(emails, KILLS);
  }, 600_000);
});
