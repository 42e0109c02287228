import {
  countTasks, expectJourneyExact, expectRestartExact, startFaultRun, useFaultStack, waitForOpenPage, waitForReady,
  waitForTasks,
} from '../support/fault-world';
import { sleep } from '../support/processes';

const CONTACTS = 100_000;
/** a broadcast running at the same time, whose tasks are nudged (a notification and an email each) by reminder sweeps */
const BROADCAST = 1_000;

/**
 * Issue 14's third fault: Postgres stops (fast shutdown: every session cut, open transactions rolled back) in the
 * middle of a 100,000-task dispatch, and starts again a few seconds later. The worker and the API are not
 * restarted: their pools reconnect, Temporal retries the pages that failed, and every task and enrollment exists
 * once. Afterwards the API serves and writes again, and the worker's wake relay (which polls the outbox) still
 * carries a new segment entrant to the journey within seconds.
 */
describe('fault: Postgres stopped and restarted mid-dispatch', () => {
  // A Postgres of this test's own: the suite's serves every other test file, which must not see it go away.
  const f = useFaultStack({ dedicated: 'postgres' });

  it('finishes the dispatch exactly once after Postgres comes back, with the same worker and API processes', async () => {
    const { stack, processes, client } = f;
    const pg = f.pg!;
    const t0 = Date.now();
    const run = await startFaultRun(f, {
      label: 'Postgres restart', journeyContacts: CONTACTS, broadcastContacts: BROADCAST, broadcastInMs: 3000,
    });
    const { http, world, tSeeded } = run;

    // Stop it while a page's transaction is open in the worker's session.
    await waitForOpenPage(stack.db, world.journeyId, Math.floor(CONTACTS * 0.3), processes);
    await pg.stop();
    const tStopped = Date.now();
    // While it is down the API says so, and stays up.
    const down = await http.get('/health/ready');
    expect(down.status).toBe(503);
    await sleep(5000);
    await pg.start();
    const tRestarted = Date.now();
    const atStop = await countTasks(stack.db, world.journeyId).catch(() => countTasks(stack.db, world.journeyId));

    await waitForTasks(stack.db, client, world.journeyId, CONTACTS, 240_000);
    const tDone = Date.now();
    const { late, emails } = await expectRestartExact(f, run, { journeyTasks: CONTACTS, faults: 1 });

    // The API writes again, and the worker's wake relay carries the new entrant to the journey within seconds
    // (without it the dispatcher would only look again at its 5-minute poll).
    await waitForReady(http, 'Postgres');
    expect((await world.addJourneyContact(world.t.admin, 'journey-after')).status).toBe(201);
    await waitForTasks(stack.db, client, world.journeyId, CONTACTS + 1, 60_000);
    await expectJourneyExact(stack.db, world, CONTACTS + 1);

    console.log(`[fault-postgres-restart] seeded in ${tSeeded - t0} ms; Postgres stopped ${tRestarted - tStopped} ms at about ${atStop} tasks; `
      + `all ${CONTACTS} tasks ${tDone - tRestarted} ms after the restart; `
      + `sweeps and late deliveries ${JSON.stringify(late)}, emails ${JSON.stringify(emails)}; whole test ${Date.now() - t0} ms`);
  }, 600_000);
});
