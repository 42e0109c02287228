import type { Notifier } from '@sop/notify';
import { workflowIds } from '@sop/temporal';
import { deliverDueReminders } from '@sop/worker';
import { reminderSweepWorkflow } from '@sop/workflows';
import { runMigrations } from '@sop/db';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { createTagSystem } from './fixtures';
import { addUser, Http, signupTenant } from './http';
import { testEnv } from './env';
import { DedicatedPostgres, DedicatedTemporal, EngineProcesses, sleep } from './processes';
import { SmtpSink } from './smtp-sink';
import { Stack } from './stack';

export interface FaultStack {
  smtp: SmtpSink; stack: Stack; processes: EngineProcesses; client: Client;
  /** the test's own Temporal server (with `dedicated: 'temporal'`), which it stops and starts */
  temporal: DedicatedTemporal | undefined;
  /** the test's own Postgres (with `dedicated: 'postgres'`), which it stops and starts */
  pg: DedicatedPostgres | undefined;
}

/**
 * The Postgres and Temporal a fault test runs on, an SMTP sink, an in-process stack without a worker (it gives the
 * test its database handle and a task queue) and the worker and API processes the test starts and kills. Filled in
 * beforeAll, stopped in afterAll. The suite's Postgres and Temporal serve every other test file, which must not see
 * them go away: a test that stops one has its own (`dedicated`, named `name`): a Temporal dev server with a
 * database file, so a restart keeps every workflow's history, or a Postgres of its own, migrated here.
 */
export function useFaultStack(options: { dedicated?: 'temporal' | 'postgres'; name?: string } = {}): FaultStack {
  const f = {} as FaultStack;
  let connection: Connection | undefined;
  beforeAll(async () => {
    const name = options.name ?? `fault-${options.dedicated}`;
    if (options.dedicated === 'temporal') f.temporal = await DedicatedTemporal.start(name);
    if (options.dedicated === 'postgres') {
      f.pg = await DedicatedPostgres.start(name);
      await runMigrations(f.pg.url);
    }
    const env = {
      DATABASE_URL: f.pg?.url ?? testEnv('DATABASE_URL'), TEMPORAL_ADDRESS: f.temporal?.address ?? testEnv('TEMPORAL_ADDRESS'),
    };
    f.smtp = await SmtpSink.start();
    f.stack = await Stack.start({ worker: false, smtpUrl: f.smtp.url, env });
    f.processes = new EngineProcesses({ ...env, TEMPORAL_TASK_QUEUE: f.stack.taskQueue });
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    f.client = new Client({ connection });
  }, 180_000);
  afterAll(async () => {
    await f.processes?.stopAll();
    // a dedicated server may be down when a test failed mid-fault: closing is then best effort
    const bestEffort = (p: Promise<void> | undefined) => (options.dedicated ? p?.catch(() => undefined) : p);
    await bestEffort(connection?.close());
    await bestEffort(f.stack?.stop());
    await f.smtp?.stop();
    await f.temporal?.destroy();
    await f.pg?.destroy();
  });
  return f;
}

/**
 * The common start of a fault test: the world seeded (`faultWorld`), one worker process started, the journey and a
 * broadcast due `broadcastInMs` after its activation activated, and reminder sweeps running back to back.
 */
export async function startFaultRun(
  f: FaultStack, o: { label: string; journeyContacts: number; broadcastContacts: number; broadcastInMs: number; workerName?: string },
) {
  const http = new Http(f.stack.baseUrl);
  const world = await faultWorld(http, f.stack.db, { journeyContacts: o.journeyContacts, broadcastContacts: o.broadcastContacts, label: o.label });
  const tSeeded = Date.now();
  const workerEnv = { SMTP_URL: f.smtp.url, APP_URL: f.stack.baseUrl };
  const worker: ChildProcess = await f.processes.worker(o.workerName ?? 'worker', workerEnv);
  expect((await world.t.admin.post(`/api/sops/${world.journeyId}/activate`)).body).toMatchObject({ status: 'active' });
  const broadcastId = await world.createBroadcast(o.broadcastInMs);
  expect((await world.t.admin.post(`/api/sops/${broadcastId}/activate`)).body).toMatchObject({ status: 'active' });
  // Reminder sweeps back to back, as the every-minute Schedule runs them (a sweep killed mid-activity is retried
  // by Temporal on the next worker). They plan the broadcast tasks' nudges and send the emails.
  const sweeps = runSweeps(f.client, f.stack.taskQueue, world.tenantId);
  return { http, world, tSeeded, worker, workerEnv, broadcastId, broadcastContacts: o.broadcastContacts, sweeps };
}

export type FaultRun = Awaited<ReturnType<typeof startFaultRun>>;

/**
 * The end of a restart test, once the journey's tasks are all there: the broadcast's tasks too, the sweeps caught up,
 * the worker that ran when the server went away still running (it reconnected: nothing restarted it), every total
 * exact (the journey's `journeyTasks`), and the emails repeated within what `faults` faults could leave in flight.
 */
export async function expectRestartExact(f: FaultStack, run: FaultRun, o: { journeyTasks: number; faults: number }) {
  const { db, notifier, baseUrl } = f.stack;
  await waitForTasks(db, f.client, run.broadcastId, run.broadcastContacts, 120_000);
  const late = await finishReminders(db, notifier, run.world, run.broadcastContacts, baseUrl, run.sweeps, () => f.processes.tail());
  expect(run.worker.exitCode).toBeNull();
  expect(run.worker.signalCode).toBeNull();
  await expectJourneyExact(db, run.world, o.journeyTasks);
  const emails = await expectBroadcastExact(db, f.smtp, run.world, run.broadcastId, run.broadcastContacts);
  expectRepeatsWithin(emails, o.faults);
  return { late, emails };
}

/**
 * Waits until the SOP has `target` tasks while a session of the test's worker processes holds a transaction open, so
 * the fault cuts a page. (Their sessions by their name: other test files' workers run pages at the same time.)
 */
export async function waitForOpenPage(db: DataSource, sopId: string, target: number, processes: EngineProcesses): Promise<void> {
  const until = Date.now() + 180_000;
  for (;;) {
    const [row] = await db.query(
      `SELECT (SELECT count(*)::int FROM tasks WHERE sop_id = $1) AS n,
              EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $2
                         AND xact_start IS NOT NULL) AS busy`, [sopId, processes.workerSessions]);
    if (row.n >= target && row.busy) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${target} tasks (${row.n}); the workers said:\n${processes.tail()}`);
    await sleep(20);
  }
}

/** Waits (30 s at most) until the API says it is ready again after `what` came back. */
export async function waitForReady(http: Http, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await http.get('/health/ready')).status !== 200) {
    if (Date.now() > until) throw new Error(`the API did not become ready after ${what} came back`);
    await sleep(250);
  }
}

/**
 * The world the fault tests share: a tenant whose journey SOP has `journeyContacts` contacts due now (one task
 * each), and optionally a broadcast to `broadcastContacts` other contacts spread over five employees, whose step
 * nudges its executor (a due-soon notification and an email) as soon as a task exists. Contacts are written with
 * set-based SQL (over HTTP one by one would take minutes); segments, SOPs and users go through the API.
 */
export async function faultWorld(
  http: Http, db: DataSource, { journeyContacts, broadcastContacts = 0, label }: { journeyContacts: number; broadcastContacts?: number; label: string },
) {
  const t = await signupTenant(http, label);
  const { tags } = await createTagSystem(t.admin);
  const owner = await addUser(t, http, 'employee');
  // The journey's executor is not nudged: its 100,000 tasks would be 100,000 emails; the broadcast's are.
  expect((await owner.client.put('/api/me/notification-preferences', { kinds: { due_soon: false } })).status).toBe(200);
  const executors = [];
  for (let i = 0; i < (broadcastContacts ? 5 : 0); i++) executors.push(await addUser(t, http, 'employee'));
  const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM users WHERE id = $1`, [owner.id]);
  const num = async (id: string) => (await db.query(`SELECT num FROM tags WHERE id = $1`, [id]))[0].num as number;

  // The journey step's window is 00:00-23:59 in the contact's zone: entering in its last minutes would make the
  // tasks due tomorrow, so the contacts live where it is not late evening now.
  const zone = DateTime.now().setZone('Asia/Shanghai').hour >= 22 ? 'America/New_York' : 'Asia/Shanghai';
  const addContacts = async (prefix: string, count: number, tagId: string, owners: string[]) => {
    const n = await num(tagId);
    await db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone, tag_nums)
       SELECT $1, $2 || g, 'Contact ' || g, ($3::uuid[])[1 + g % cardinality($3::uuid[])], $5, ARRAY[$4::int]
         FROM generate_series(1, $6::int) g`,
      [tenantId, prefix, owners, n, zone, count],
    );
    await db.query(
      `INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
       SELECT tenant_id, id, $2, $3 FROM contacts WHERE tenant_id = $1 AND $3 = ANY(tag_nums)`,
      [tenantId, tagId, n],
    );
  };
  await addContacts('journey-', journeyContacts, tags.intentHigh.id, [owner.id]);
  if (broadcastContacts) await addContacts('broadcast-', broadcastContacts, tags.productA.id, executors.map((e) => e.id));
  const segment = async (name: string, tagId: string, members: number) => {
    const created = await t.admin.post('/api/segments', { name, rule: { tag: tagId } });
    expect(created.status).toBe(201);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL`, [created.body.id]);
    expect(n).toBe(members);
    return created.body.id as string;
  };
  const journeySegment = await segment('High intent', tags.intentHigh.id, journeyContacts);
  const broadcastSegment = broadcastContacts ? await segment('Product A', tags.productA.id, broadcastContacts) : null;
  // Fresh statistics for the rows written outside the API, as autovacuum would give them in time: with none, the
  // entrants' plan can take the new segment for empty and run for minutes.
  await db.query('ANALYZE contacts, contact_tags, segment_memberships');

  const journey = await t.admin.post('/api/sops', { name: 'Fault journey', definition: {
    kind: 'journey',
    audience: { segmentId: journeySegment },
    entry: { includeExistingMembers: true, reentry: 'never' },
    steps: [{ name: 'Welcome', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: '{{ contact.name }}，您好！我是{{ owner.name }}。' }, executor: { rule: 'contactOwner' } }],
    policies: { businessDaysOnly: false, exitOn: [{ on: 'leftSegment' }] },
  } });
  expect(journey.status).toBe(201);

  /** The broadcast SOP (created, not yet activated): its send time `sendInMs` after activation is asked for. */
  const createBroadcast = async (sendInMs: number): Promise<string> => {
    const created = await t.admin.post('/api/sops', { name: 'Fault broadcast', definition: {
      kind: 'broadcast', audience: { segmentId: broadcastSegment }, sendAt: new Date(Date.now() + sendInMs).toISOString(),
      steps: [{ name: 'Announce', dueWithinMinutes: 60, channel: 'wecom_chat', content: { template: '{{ contact.name }}：活动开始了' },
        executor: { rule: 'contactOwner' }, reminder: { dueSoonMinutes: 120 } }],
      policies: { businessDaysOnly: false },
    } });
    expect(created.status).toBe(201);
    return created.body.id;
  };

  /** a journey contact added through the API (its segment entry goes through the outbox like any other) */
  const addJourneyContact = (api: Http, externalId: string) =>
    api.post('/api/contacts', { externalId, name: `Late ${externalId}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: zone });

  return {
    t, tenantId: tenantId as string, owner, executors, journeyId: journey.body.id as string, journeySegment, createBroadcast, addJourneyContact,
  };
}

export type FaultWorld = Awaited<ReturnType<typeof faultWorld>>;

export const countTasks = async (db: DataSource, sopId: string): Promise<number> =>
  (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [sopId]))[0].n;

/** Polls until the SOP has `target` tasks; the message says where the dispatcher stood when it did not get there. */
export async function waitForTasks(db: DataSource, client: Client, sopId: string, target: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    // a pool's first query after a Postgres restart may meet a connection the server closed: look again
    const n = await countTasks(db, sopId).catch(() => -1);
    if (n >= target) return n;
    if (Date.now() > until) {
      const pending = await client.workflow.getHandle(workflowIds.sopDispatcher(sopId)).describe()
        .then((d) => JSON.stringify(d.raw.pendingActivities?.map((a) => ({ type: a.activityType?.name, attempt: a.attempt, state: a.state, failure: a.lastFailure?.message })) ?? []))
        .catch((e: Error) => `no dispatcher: ${e.message}`);
      throw new Error(`timed out waiting for ${target} tasks of SOP ${sopId}: ${n}; dispatcher activities ${pending}`);
    }
    await sleep(250);
  }
}

/**
 * Exactly once, checked in the database: every contact of the journey has one task and one completed enrollment
 * (and the broadcast's contacts one task each); no task, enrollment, notification or delivery exists twice.
 */
export async function expectJourneyExact(db: DataSource, world: Pick<FaultWorld, 'journeyId' | 'owner' | 'tenantId'>, contacts: number): Promise<void> {
  // every journey contact has exactly one task (one grouped pass; a subquery per contact would scan the tasks each time)
  const [{ wrong }] = await db.query(
    `SELECT count(*)::int AS wrong FROM contacts c
       LEFT JOIN (SELECT contact_id, count(*) AS n FROM tasks WHERE sop_id = $2 GROUP BY contact_id) t ON t.contact_id = c.id
      WHERE c.tenant_id = $1 AND c.external_id LIKE 'journey-%' AND coalesce(t.n, 0) <> 1`,
    [world.tenantId, world.journeyId],
  );
  expect(wrong).toBe(0);
  const [tasks] = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT enrollment_id)::int AS enrollments, count(DISTINCT contact_id)::int AS contacts,
            count(*) FILTER (WHERE executor_id = $2 AND status = 'pending' AND step_index = 0)::int AS assigned
       FROM tasks WHERE sop_id = $1`,
    [world.journeyId, world.owner.id],
  );
  expect(tasks).toEqual({ n: contacts, enrollments: contacts, contacts, assigned: contacts });
  const [enrollments] = await db.query(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'completed' AND next_step = 1 AND next_due_at IS NULL)::int AS completed,
            count(DISTINCT contact_id)::int AS contacts
       FROM enrollments WHERE sop_id = $1`,
    [world.journeyId],
  );
  expect(enrollments).toEqual({ n: contacts, completed: contacts, contacts });
}

/** The broadcast's tasks, their due-soon notifications, email deliveries and the emails the SMTP sink got: one each. */
export async function expectBroadcastExact(db: DataSource, smtp: SmtpSink, world: FaultWorld, broadcastId: string, contacts: number) {
  const [tasks] = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts, count(DISTINCT occurrence)::int AS occurrences
       FROM tasks WHERE sop_id = $1`, [broadcastId]);
  expect(tasks).toEqual({ n: contacts, contacts, occurrences: 1 });
  const [notes] = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT n.task_id)::int AS tasks, count(*) FILTER (WHERE n.user_id = t.executor_id)::int AS to_executor
       FROM notifications n JOIN tasks t ON t.id = n.task_id
      WHERE n.tenant_id = $1 AND n.kind = 'due_soon' AND t.sop_id = $2`, [world.tenantId, broadcastId]);
  expect(notes).toEqual({ n: contacts, tasks: contacts, to_executor: contacts });
  const [{ nudgedJourney }] = await db.query(
    `SELECT count(*)::int AS "nudgedJourney" FROM notifications n JOIN tasks t ON t.id = n.task_id WHERE n.tenant_id = $1 AND t.sop_id = $2`,
    [world.tenantId, world.journeyId]);
  expect(nudgedJourney).toBe(0);
  const deliveries: { id: string; status: string }[] = await db.query(
    `SELECT d.id::text, d.status FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
      WHERE n.tenant_id = $1 AND n.kind = 'due_soon' AND d.channel = 'email'`, [world.tenantId]);
  expect(deliveries).toHaveLength(contacts);
  expect(deliveries.filter((d) => d.status !== 'sent')).toEqual([]);
  // Each email carries its delivery id (also its Message-ID): the set received is exactly the set of deliveries.
  const addresses = new Set(world.executors.map((e) => e.email));
  const mails = smtp.received.filter((r) => r.envelopeTo.some((to) => addresses.has(to)) && r.mail.headers.get('x-sop-kind') === 'due_soon');
  const ids = mails.map((r) => String(r.mail.headers.get('x-sop-delivery')));
  const distinct = new Set(ids);
  expect([...distinct].sort()).toEqual(deliveries.map((d) => `reminder-delivery-${d.id}`).sort());
  return { emails: mails.length, distinctEmails: distinct.size, repeats: mails.length - distinct.size };
}

/**
 * Email is at least once: SMTP cannot say whether a message whose sender died mid-conversation was taken. A worker
 * records each send before its lane sends again, so what a fault can repeat is what was in flight at that moment:
 * at most the delivery concurrency (32) per fault, and every repeat carries the delivery's own Message-ID.
 */
export const IN_FLIGHT_SENDS = 32;
export function expectRepeatsWithin(emails: { repeats: number }, faults: number): void {
  expect(emails.repeats).toBeLessThanOrEqual(IN_FLIGHT_SENDS * faults);
}

/**
 * Reminder sweeps back to back for one tenant, as the every-minute Schedule runs them (through Temporal, on the
 * test's task queue, so whichever worker polls runs them). A sweep that cannot start (Temporal down) is tried
 * again a second later. `stop()` waits for the sweep in flight and returns how many ran.
 */
export function runSweeps(client: Client, taskQueue: string, tenantId: string) {
  let sweeping = true;
  let sweeps = 0;
  const errors: string[] = [];
  const loop = (async () => {
    while (sweeping) {
      try {
        await client.workflow.execute(reminderSweepWorkflow, {
          taskQueue, workflowId: `fault-sweep-${taskQueue}-${sweeps++}`, args: [{ tenantIds: [tenantId] }],
        });
      } catch (err) {
        errors.push((err as Error).message);
        await sleep(1000);
      }
      await sleep(500);
    }
  })();
  return {
    errors,
    async stop(): Promise<number> {
      sweeping = false;
      await loop;
      return sweeps;
    },
  };
}

/**
 * Waits until the sweeps planned a due-soon notification for each of `count` broadcast tasks and no email delivery
 * is still pending, stops the sweeps (the last one finishes and records its sends), then sends what workers killed
 * mid-send left claimed: a claim frees itself when its lease (2 minutes) ends, and the next sweep sends it; that
 * sweep runs here with its clock moved past the lease.
 */
export async function finishReminders(
  db: DataSource, notifier: Notifier, world: FaultWorld, count: number, appUrl: string, sweeps: ReturnType<typeof runSweeps>, tail: () => string,
) {
  const until = Date.now() + 180_000;
  for (;;) {
    const [row] = await db.query(
      `SELECT count(*)::int AS planned, count(*) FILTER (WHERE d.status = 'pending')::int AS unsent
         FROM notifications n JOIN notification_deliveries d ON d.notification_id = n.id
        WHERE n.tenant_id = $1 AND n.kind = 'due_soon'`, [world.tenantId]).catch(() => [{ planned: -1, unsent: -1 }]);
    if (row.planned === count && row.unsent === 0) break;
    if (Date.now() > until) throw new Error(`the sweeps did not catch up: ${JSON.stringify(row)}; the workers said:\n${tail()}`);
    await sleep(500);
  }
  const sweepCount = await sweeps.stop();
  const late = await deliverDueReminders(db, notifier, { now: new Date(Date.now() + 3 * 60_000), onlyTenants: [world.tenantId], appUrl });
  return { sweeps: sweepCount, sweepErrors: sweeps.errors.length, late };
}
