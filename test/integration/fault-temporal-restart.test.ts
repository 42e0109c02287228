import {
  countTasks, expectRestartExact, startFaultRun, useFaultStack, waitForReady, waitForTasks,
} from '../support/fault-world';
import { sleep } from '../support/processes';

const CONTACTS = 100_000;
/** a broadcast running at the same time, whose tasks are nudged (a notification and an email each) by reminder sweeps */
const BROADCAST = 1_000;

/**
 * Issue 14's second fault: the Temporal server stops in the middle of a 100,000-task dispatch and starts again
 * on its database file a few seconds later. Neither the worker process nor the API is restarted: both reconnect,
 * the dispatcher carries on from its history, and every task and enrollment exists once. A contact that enters
 * the journey's segment while Temporal is down gets its task promptly once it is back (the wake relay's signal goes
 * through when the client's retries reach the server again), and the API starts new work in Temporal again.
 */
describe('fault: the Temporal server stopped and restarted mid-dispatch', () => {
  // The suite's dev server keeps its state in memory and serves every test file: this test has its own, with a
  // database file, so a restart keeps every workflow's history.
  const f = useFaultStack({ dedicated: 'temporal' });

  it('finishes the dispatch exactly once after the server comes back, with the same worker and API processes', async () => {
    const { stack, processes, client } = f;
    const temporal = f.temporal!;
    const t0 = Date.now();
    const run = await startFaultRun(f, {
      label: 'Temporal restart', journeyContacts: CONTACTS, broadcastContacts: BROADCAST, broadcastInMs: 3000,
    });
    const { http, world, tSeeded } = run;

    const stopAt = Math.floor(CONTACTS * 0.3);
    const until = Date.now() + 180_000;
    while ((await countTasks(stack.db, world.journeyId)) < stopAt) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${stopAt} tasks; the worker said:\n${processes.tail()}`);
      await sleep(20);
    }
    await temporal.stop('SIGTERM');
    const tStopped = Date.now();
    const atStop = await countTasks(stack.db, world.journeyId);

    // While it is down: the API says it is not ready, and a contact joins the journey's segment through the API
    // (its outbox row reaches the wake relay, whose signal waits for the server).
    expect((await http.get('/health/ready')).status).toBe(503);
    expect((await world.addJourneyContact(world.t.admin, 'journey-late')).status).toBe(201);
    await sleep(5000);
    const whileDown = await countTasks(stack.db, world.journeyId);
    expect(whileDown).toBeLessThan(CONTACTS);

    await temporal.start();
    const tRestarted = Date.now();
    await waitForTasks(stack.db, client, world.journeyId, CONTACTS + 1, 240_000);
    const tDone = Date.now();
    const { late, emails } = await expectRestartExact(f, run, { journeyTasks: CONTACTS + 1, faults: 0 });

    // The API reconnected too: it starts a workflow again (a second journey's dispatcher), which the worker runs.
    await waitForReady(http, 'Temporal');
    const second = await world.t.admin.post('/api/sops', { name: 'After restart', definition: {
      kind: 'journey', audience: { segmentId: world.journeySegment }, entry: { includeExistingMembers: false, reentry: 'never' },
      steps: [{ name: 'Hello', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } });
    expect(second.status).toBe(201);
    expect((await world.t.admin.post(`/api/sops/${second.body.id}/activate`)).status).toBe(200);
    const newcomer = await world.addJourneyContact(world.t.admin, 'journey-newcomer');
    expect(newcomer.status).toBe(201);
    await waitForTasks(stack.db, client, second.body.id, 1, 60_000);

    console.log(`[fault-temporal-restart] seeded in ${tSeeded - t0} ms; Temporal stopped at ${atStop} tasks (${whileDown} while down), `
      + `restarted after ${tRestarted - tStopped} ms; all ${CONTACTS + 1} tasks ${tDone - tRestarted} ms after the restart; `
      + `sweeps and late deliveries ${JSON.stringify(late)}, emails ${JSON.stringify(emails)}; whole test ${Date.now() - t0} ms`);
  }, 600_000);
});
