import { runMigrations } from '@sop/db';
import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { testEnv } from '../support/env';
import { countTasks, expectBroadcastExact, expectJourneyExact, faultWorld, expectRepeatsWithin, finishReminders, runSweeps, waitForTasks } from '../support/fault-world';
import { Http } from '../support/http';
import { DedicatedPostgres, EngineProcesses, sleep } from '../support/processes';
import { SmtpSink } from '../support/smtp-sink';
import { Stack } from '../support/stack';

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
  let pg: DedicatedPostgres;
  let stack: Stack;
  let smtp: SmtpSink;
  let processes: EngineProcesses;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    // A Postgres of this test's own: the suite's serves every other test file, which must not see it go away.
    pg = await DedicatedPostgres.start('fault-postgres');
    await runMigrations(pg.url);
    smtp = await SmtpSink.start();
    stack = await Stack.start({ worker: false, smtpUrl: smtp.url, env: { DATABASE_URL: pg.url } });
    processes = new EngineProcesses({ DATABASE_URL: pg.url, TEMPORAL_ADDRESS: testEnv('TEMPORAL_ADDRESS'), TEMPORAL_TASK_QUEUE: stack.taskQueue });
    connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    client = new Client({ connection });
  }, 180_000);
  afterAll(async () => {
    await processes?.stopAll();
    await connection?.close();
    await stack?.stop().catch(() => undefined);
    await smtp?.stop();
    await pg?.destroy();
  });

  it('finishes the dispatch exactly once after Postgres comes back, with the same worker and API processes', async () => {
    const t0 = Date.now();
    const http = new Http(stack.baseUrl);
    const world = await faultWorld(http, stack.db, { journeyContacts: CONTACTS, broadcastContacts: BROADCAST, label: 'Postgres restart' });
    const tSeeded = Date.now();
    const worker: ChildProcess = await processes.worker('worker', { SMTP_URL: smtp.url, APP_URL: stack.baseUrl });
    expect((await world.t.admin.post(`/api/sops/${world.journeyId}/activate`)).body).toMatchObject({ status: 'active' });
    const broadcastId = await world.createBroadcast(3000);
    expect((await world.t.admin.post(`/api/sops/${broadcastId}/activate`)).body).toMatchObject({ status: 'active' });
    const sweeps = runSweeps(client, stack.taskQueue, world.tenantId);

    // Stop it while a page's transaction is open in the worker's session.
    const stopAt = Math.floor(CONTACTS * 0.3);
    const until = Date.now() + 180_000;
    for (;;) {
      const [row] = await stack.db.query(
        `SELECT (SELECT count(*)::int FROM tasks WHERE sop_id = $1) AS n,
                EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'sop-worker'
                           AND xact_start IS NOT NULL) AS busy`, [world.journeyId]);
      if (row.n >= stopAt && row.busy) break;
      if (Date.now() > until) throw new Error(`timed out waiting for ${stopAt} tasks (${row.n}); the worker said:\n${processes.tail()}`);
      await sleep(20);
    }
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
    await waitForTasks(stack.db, client, broadcastId, BROADCAST, 120_000);
    const late = await finishReminders(stack.db, stack.notifier, world, BROADCAST, stack.baseUrl, sweeps, () => processes.tail());
    expect(worker.exitCode).toBeNull();
    expect(worker.signalCode).toBeNull();
    await expectJourneyExact(stack.db, world, CONTACTS);
    const emails = await expectBroadcastExact(stack.db, smtp, world, broadcastId, BROADCAST);
    expectRepeatsWithin(emails, 1);

    // The API writes again, and the worker's wake relay carries the new entrant to the journey within seconds
    // (without it the dispatcher would only look again at its 5-minute poll).
    const until2 = Date.now() + 30_000;
    while ((await http.get('/health/ready')).status !== 200) {
      if (Date.now() > until2) throw new Error('the API did not become ready after Postgres came back');
      await sleep(250);
    }
    expect((await world.addJourneyContact(world.t.admin, 'journey-after')).status).toBe(201);
    await waitForTasks(stack.db, client, world.journeyId, CONTACTS + 1, 60_000);
    await expectJourneyExact(stack.db, world, CONTACTS + 1);

    console.log(`[fault-postgres-restart] seeded in ${tSeeded - t0} ms; Postgres stopped ${tRestarted - tStopped} ms at about ${atStop} tasks; `
      + `all ${CONTACTS} tasks ${tDone - tRestarted} ms after the restart; `
      + `sweeps and late deliveries ${JSON.stringify(late)}, emails ${JSON.stringify(emails)}; whole test ${Date.now() - t0} ms`);
  }, 600_000);
});
