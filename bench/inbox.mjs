// Inbox benchmark (issue 5). On a fresh database:
// - 5,000,000 tasks over 2,000 employees (about half a year of history each, a few due today, some
//   overdue, some upcoming), then 200 employees reading their inbox lists at once through the real API,
//   which runs as a separate process, each pausing about a second between two lists (BENCH_THINK_MS);
//   p95 per list, and the worst list is the figure; then the same employees with no pause, for capacity;
// - 10,000 tasks whose due-soon moment falls in the same minute, in that same tenant: one reminder sweep
//   (the Schedule's workflow on a real Temporal server, with the real worker) plans the in-app notifications
//   and emails, and the worker sends the emails through a real SMTP server in this process; the figure is
//   the time from the sweep's start to the last email received;
// - the loop (bench/loop.mjs): response -> exit and response -> enrollment in another journey, p95.
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const jwt = require('jsonwebtoken');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { p95, startApi, timed, waitFor } = await import(join(ROOT, 'bench/lib.mjs'));
const { startTemporal } = await import(join(ROOT, 'tools/lib/infra.mjs'));
const { measureLoop } = await import(join(ROOT, 'bench/loop.mjs'));

const TASKS = Number(process.env.BENCH_TASKS ?? 5_000_000);
const EMPLOYEES = Number(process.env.BENCH_EMPLOYEES ?? 2000);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 200_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
/** Each employee waits about this long between two requests (uniformly 0.5x to 1.5x): people read their list, then act. */
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 1000);
const LISTS = ['today', 'overdue', 'upcoming', 'done'];
const REMINDERS = Number(process.env.BENCH_REMINDERS ?? 10_000);
const LOOP_SAMPLES = Number(process.env.BENCH_LOOP_SAMPLES ?? 50);
const TARGETS = { inbox_p95_ms: 25, reminders_delivered_s: 60, loop_p95_ms: 2000 };
/** issue 14: the API's own cost per list, with no pause between requests */
const TARGET_SATURATED_PER_S = 1000;

/**
 * GET and parse JSON with Node's http client on kept-alive connections: the load generator shares this machine's
 * two cores with the API and Postgres, and fetch costs it about twice the CPU per request.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const getJson = (url, headers) => new Promise((resolve, reject) => {
  request(url, { agent, headers }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      try {
        resolve({ ok: res.statusCode < 400, body: JSON.parse(Buffer.concat(chunks).toString()) });
      } catch (err) {
        reject(err);
      }
    });
  }).on('error', reject).end();
});

const round = (x) => Math.round(x * 10) / 10;

/** The inbox's own targets: p95 under the paced load, lists a second with no pause, no failed request. */
function listMisses(figures, errors) {
  const missed = [];
  if (!(figures.inbox_p95_ms <= TARGETS.inbox_p95_ms)) missed.push(`inbox_p95_ms ${figures.inbox_p95_ms} > ${TARGETS.inbox_p95_ms}`);
  if (!(figures.inbox_saturated_requests_per_s >= TARGET_SATURATED_PER_S)) {
    missed.push(`inbox_saturated_requests_per_s ${figures.inbox_saturated_requests_per_s} < ${TARGET_SATURATED_PER_S}`);
  }
  if (errors) missed.push(`${errors} inbox requests failed`);
  return missed;
}
/** A tenant with a team of employees, contacts, one SOP, and TASKS tasks spread over half a year around today. */
async function seed(db, log) {
  const [{ id: tenantId }] = await db.query(`INSERT INTO tenants (name) VALUES ('Inbox bench 收件箱') RETURNING id`);
  const employees = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash)
     SELECT $1, 'inbox-emp-' || g || '@bench.example', '员工 ' || g, 'employee', 'x' FROM generate_series(1, $2::int) g RETURNING id`,
    [tenantId, EMPLOYEES])).map((r) => r.id);
  await db.query(
    `INSERT INTO contacts (tenant_id, external_id, name, owner_id)
     SELECT $1, 'c-' || g, '客户 ' || g, ($2::uuid[])[1 + g % $3::int] FROM generate_series(1, $4::int) g`,
    [tenantId, employees, EMPLOYEES, CONTACTS]);
  // A whole, valid journey (the engine reads every active SOP's policies), archived so no dispatcher runs for it.
  const [{ id: segmentId }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, 'Bench audience', '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId]);
  const definition = {
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: false, reentry: 'never' },
    steps: [{ name: 'Day 0', offsetDays: 0, window: { start: '09:00', end: '12:00' }, channel: 'wecom_chat',
      content: { template: '您好，新品 Product B 到了，点击查看。', materials: [] }, executor: { rule: 'contactOwner' }, reminder: { mandatory: false } }],
    policies: { businessDaysOnly: false, priority: 50, overflow: 'defer', exitOn: [], onFinish: { addTagIds: [], removeTagIds: [] } },
  };
  const [{ id: sopId }] = await db.query(
    `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids)
     VALUES ($1, '新客 7 日培育 Nurture', 'journey', 'archived', $2, 1, $3) RETURNING id`, [tenantId, definition, [segmentId]]);
  const [{ id: versionId }] = await db.query(
    `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4) RETURNING id`,
    [tenantId, sopId, definition, [segmentId]]);
  const contactIds = (await db.query(`SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY external_id`, [tenantId])).map((r) => r.id);

  // Enrollment ids below zero: seeded history must not take the keys of enrollments the loop creates later.
  // Task g is employee g % EMPLOYEES's k-th (k = g / EMPLOYEES); its due day runs from 180 days ago to 30 days ahead. Past tasks
  // are mostly done (some skipped, 4% still pending: overdue); today's and later ones are pending.
  const CHUNK = 250_000;
  for (let from = 1; from <= TASKS; from += CHUNK) {
    const to = Math.min(TASKS, from + CHUNK - 1);
    const [ms] = await timed(() => db.query(
      `WITH g AS (
         SELECT g, k, date_trunc('day', now()) - interval '180 days' + (k % 211) * interval '1 day' + (k % 8) * interval '1 hour' + interval '9 hours' AS due_at
           FROM generate_series($6::int, $7::int) g, LATERAL (SELECT g / $5::int AS k) k)
       INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, due_at, due_until,
                          status, outcome, finished_at)
       SELECT $1, $2, $3, 0, -g, ($4::uuid[])[1 + g % array_length($4::uuid[], 1)], ($8::uuid[])[1 + g % $5::int], 'wecom_chat',
              '您好，新品 Product B 到了，点击查看。', due_at, due_at + interval '3 hours',
              CASE WHEN due_at + interval '3 hours' >= now() OR k % 25 = 0 THEN 'pending' WHEN k % 10 = 0 THEN 'skipped' ELSE 'done' END,
              CASE WHEN due_at + interval '3 hours' < now() AND k % 25 <> 0 AND k % 10 <> 0 THEN 'sent' END,
              CASE WHEN due_at + interval '3 hours' < now() AND k % 25 <> 0 THEN due_at + interval '1 hour' END
         FROM g`,
      [tenantId, sopId, versionId, contactIds, EMPLOYEES, from, to, employees]));
    log(`tasks ${to.toLocaleString('en')} / ${TASKS.toLocaleString('en')} (${round(ms / 1000)} s for this chunk)`);
  }
  await db.query('VACUUM ANALYZE tasks');
  return { tenantId, employees };
}

/** CONCURRENCY employees, each reading its lists in turn with a pause of about `thinkMs` between two (none: as fast as answers come). */
async function loadInbox(base, tokens, log, { thinkMs = THINK_MS, seconds = LOAD_SECONDS, warm = true } = {}) {
  const latencies = Object.fromEntries(LISTS.map((l) => [l, []]));
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const user = async (u) => {
    if (thinkMs) await new Promise((r) => setTimeout(r, Math.random() * thinkMs));
    const headers = { authorization: `Bearer ${tokens[u]}` };
    for (let i = u; Date.now() < until; i++) {
      const list = LISTS[i % LISTS.length];
      const t = performance.now();
      const { ok, body } = await getJson(`${base}/api/inbox/tasks?list=${list}&limit=20`, headers).catch(() => ({ ok: false, body: {} }));
      if (!ok || !Array.isArray(body.items)) errors++;
      else latencies[list].push(performance.now() - t);
      if (thinkMs) await new Promise((r) => setTimeout(r, thinkMs * (0.5 + Math.random())));
    }
  };
  // Warm up as a running system would be: each employee has opened each list once (pool, caches), 20 at a time.
  for (let i = 0; warm && i < tokens.length; i += 20) {
    await Promise.all(tokens.slice(i, i + 20).flatMap((token) => LISTS.map((list) =>
      fetch(`${base}/api/inbox/tasks?list=${list}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()))));
  }
  await Promise.all(tokens.map((_, u) => user(u)));
  const perList = Object.fromEntries(LISTS.map((l) => [l, round(p95(latencies[l]))]));
  const requests = LISTS.reduce((n, l) => n + latencies[l].length, 0);
  log(`inbox: ${requests} list requests in ${seconds} s from ${tokens.length} employees thinking ${thinkMs} ms (${errors} errors); p95 per list ${JSON.stringify(perList)}`);
  return { perList, requests, errors, perSecond: round(requests / seconds) };
}

/** The plans of the list pages as the inbox cuts them for one employee (BENCH_EXPLAIN=1), for docs and index design. */
async function explainLists(db, tenantId, executorId, log) {
  const lists = {
    today: [`t.status = 'pending' AND t.due_at < $4 AND t.due_until >= $3 AND (t.snoozed_until IS NULL OR t.snoozed_until <= $3)`, 't.due_until, t.id'],
    overdue: [`t.status = 'pending' AND t.due_until < $3`, 't.due_at, t.id'],
    upcoming: [`t.status = 'pending' AND t.due_until >= $3 AND (t.due_at >= $4 OR t.snoozed_until > $3)`, 't.due_at, t.id'],
    done: [`t.status IN ('done', 'skipped')`, 't.finished_at DESC, t.id DESC'],
  };
  const now = new Date();
  const end = new Date(now.getTime() + 12 * 3600_000);
  for (const [list, [where, order]] of Object.entries(lists)) {
    const params = [tenantId, executorId, now, end].filter((_, i) => i < 2 || where.includes(`$${i + 1}`));
    const plan = await db.query(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM tasks t WHERE t.tenant_id = $1 AND t.executor_id = $2 AND ${where} ORDER BY ${order} LIMIT 21`, params);
    log(`${list}:\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
  }
}

/** A real SMTP server that counts what arrives, by the delivery id each reminder email carries. */
async function startSmtpSink() {
  const { SMTPServer } = require('smtp-server');
  const ids = new Set();
  let onMail = () => {};
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, _session, done) {
      let head = '';
      stream.on('data', (chunk) => { if (head.length < 8192) head += chunk.toString('latin1'); });
      stream.on('end', () => {
        const id = /^x-sop-delivery:\s*(\S+)/im.exec(head)?.[1];
        if (id) ids.add(id);
        onMail();
        done();
      });
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${server.server.address().port}`, ids,
    waitFor: (count, timeoutMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${ids.size} of ${count} emails arrived in ${timeoutMs} ms`)), timeoutMs);
      onMail = () => { if (ids.size >= count) { clearTimeout(timer); resolve(); } };
      onMail();
    }),
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * REMINDERS tasks close at the same minute T (a quiet minute, away from the seeded tasks' windows), so their
 * due-soon moment (T - 30 min, the employees' default) is the same minute; a sweep at T - 60 min sets the
 * tenant's sweep clock, then the measured sweep runs at the due minute through Temporal, as the Schedule would.
 */
async function benchReminders(db, temporalAddress, tenantId, employees, log) {
  const { NativeConnection } = require('@temporalio/worker');
  const { Client, Connection } = require('@temporalio/client');
  const { createEngineWorker } = require(join(ROOT, 'apps/worker/dist'));
  const { createNotifier } = require(join(ROOT, 'libs/notify/dist'));
  const smtp = await startSmtpSink();
  const notifier = createNotifier({ smtp: { url: smtp.url, from: 'SOP 提醒 <reminders@bench.example>', pool: Number(process.env.SMTP_POOL ?? 5) } });
  const taskQueue = `bench-reminders-${randomBytes(4).toString('hex')}`;
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await createEngineWorker({ connection, namespace: 'default', db, taskQueue, reminders: { notifier, appUrl: 'https://sop.example' } });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection: clientConnection });
  try {
    const closes = new Date(Date.UTC(2031, 0, 7, 2, 17));
    const [{ id: sopId, version_id: versionId }] = await db.query(
      `SELECT s.id, v.id AS version_id FROM sops s JOIN sop_versions v ON v.sop_id = s.id WHERE s.tenant_id = $1 LIMIT 1`, [tenantId]);
    await db.query(
      `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, occurrence, contact_id, executor_id, channel, content, due_at, due_until)
       SELECT $1, $2, $3, 0, $4::timestamptz, c.id, ($5::uuid[])[1 + g % array_length($5::uuid[], 1)], 'phone_call', '回访：确认 Product B 的试用体验',
              $4::timestamptz - interval '2 hours', $4
         FROM generate_series(1, $6::int) g JOIN LATERAL (SELECT id FROM contacts WHERE tenant_id = $1 AND external_id = 'c-' || g) c ON true`,
      [tenantId, sopId, versionId, closes, employees, REMINDERS]);
    await db.query('ANALYZE tasks');
    const sweep = (now) => client.workflow.execute('reminderSweepWorkflow', {
      taskQueue, workflowId: `bench-reminder-sweep-${now}`, args: [{ now, tenantIds: [tenantId] }],
    });
    await sweep(closes.getTime() - 60 * 60_000);
    const dueMinute = closes.getTime() - 30 * 60_000;
    const started = performance.now();
    const result = await sweep(dueMinute);
    const sweptMs = performance.now() - started;
    await smtp.waitFor(REMINDERS, 120_000).catch((err) => log(err.message));
    const deliveredMs = performance.now() - started;
    const [{ in_app: inApp }] = await db.query(
      `SELECT count(*)::int AS in_app FROM notifications WHERE tenant_id = $1 AND kind = 'due_soon'`, [tenantId]);
    log(`reminders: sweep ${Math.round(sweptMs)} ms (${JSON.stringify(result)}); ${inApp} in-app, ${smtp.ids.size} emails received after ${Math.round(deliveredMs)} ms`);
    return { inApp, emails: smtp.ids.size, deliveredS: round(deliveredMs / 1000), sweptS: round(sweptMs / 1000) };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await notifier.close();
    await smtp.stop();
  }
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  let api;
  let temporal;
  try {
    log(`Seeding ${TASKS.toLocaleString('en')} tasks for ${EMPLOYEES} employees…`);
    const { tenantId, employees } = await seed(db, log);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM tasks`);
    const tokens = employees.slice(0, CONCURRENCY).map((id) => jwt.sign({ sub: id, tid: tenantId, role: 'employee' }, secret, { expiresIn: '1h' }));
    if (process.env.BENCH_EXPLAIN) await explainLists(db, tenantId, employees[0], log);
    api = startApi({ DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: secret, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const inbox = await loadInbox(base, tokens, log);
    // Capacity, for the record (no target): the same employees with no pause at all, a closed loop.
    const saturated = await loadInbox(base, tokens, log, { thinkMs: 0, seconds: 15, warm: false });
    api.kill('SIGTERM');
    // BENCH_INBOX_ONLY=1: the two list loads alone (profiling the API's own cost per request)
    if (process.env.BENCH_INBOX_ONLY) {
      const figures = { bench: 'inbox', tasks: n, inbox_p95_ms: Math.max(...Object.values(inbox.perList)), inbox_requests_per_s: inbox.perSecond,
        inbox_saturated_requests_per_s: saturated.perSecond, inbox_saturated_p95_ms: Math.max(...Object.values(saturated.perList)) };
      return { figures, missed: listMisses(figures, inbox.errors + saturated.errors) };
    }

    temporal = await startTemporal({ port: await freePort(), logFile: join(ROOT, '.data/bench-inbox-temporal.log') });
    const loop = await measureLoop({ databaseUrl, temporalAddress: temporal.address, samples: LOOP_SAMPLES, log });
    const reminders = await benchReminders(db, temporal.address, tenantId, employees, log);

    const figures = {
      bench: 'inbox', tasks: n, inbox_p95_ms: Math.max(...Object.values(inbox.perList)), concurrency: CONCURRENCY,
      reminders_due: REMINDERS, reminders_delivered_s: reminders.deliveredS, loop_p95_ms: loop.loop_p95_ms,
      inbox_p95_by_list_ms: inbox.perList, inbox_think_ms: THINK_MS, inbox_requests_per_s: inbox.perSecond, inbox_errors: inbox.errors,
      inbox_saturated_requests_per_s: saturated.perSecond, inbox_saturated_p95_ms: Math.max(...Object.values(saturated.perList)),
      reminders_in_app: reminders.inApp, reminders_emails: reminders.emails, reminders_sweep_s: reminders.sweptS,
      ...Object.fromEntries(Object.entries(loop).filter(([k]) => k !== 'loop_p95_ms')),
    };
    const missed = listMisses(figures, inbox.errors + saturated.errors);
    for (const [key, target] of Object.entries(TARGETS)) if (key in figures && key !== 'inbox_p95_ms' && !(figures[key] <= target)) missed.push(`${key} ${figures[key]} > ${target}`);
    if (reminders.inApp !== REMINDERS || reminders.emails !== REMINDERS) missed.push(`reminders: ${reminders.inApp} in-app and ${reminders.emails} emails of ${REMINDERS}`);
    return { figures, missed };
  } finally {
    api?.kill('SIGTERM');
    await temporal?.stop();
    await db.destroy();
  }
}
