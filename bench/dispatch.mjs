// SOP engine benchmark (issue 4). On a fresh database with 1,000,000 contacts in one segment:
// - enroll all of them into a journey with the engine's set-based INSERT ... SELECT, against a raw
//   INSERT ... SELECT of the same rows (into the same table, and into a bare copy without indexes);
// - materialize 100,000 due tasks with rendered content, page by page, against a raw insert of the
//   same rows;
// - drive 10,000 enrollments through the engine's dispatcher workflow and, in the same run, as one
//   Temporal workflow per contact (the design we rejected), on a real Temporal dev server;
// - count open workflows while the engine runs.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { applyExits, enrollmentBounds, enrollSql, enrollEntrants, materializeDuePage, nextDueAt } = require(join(ROOT, 'libs/engine/dist'));
const { compileTemplate } = require(join(ROOT, 'libs/domain/dist'));
const { createEngineWorker } = require(join(ROOT, 'apps/worker/dist'));
const { bundleWorkflowCode, NativeConnection, Worker } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { dbSizeMb, timed } = await import(join(ROOT, 'bench/lib.mjs'));
const { startTemporal } = await import(join(ROOT, 'tools/lib/infra.mjs'));

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const MATERIALIZE = Number(process.env.BENCH_MATERIALIZE ?? 100_000);
const PER_CONTACT = Number(process.env.BENCH_PER_CONTACT ?? 10_000);
const PAGE = Number(process.env.BENCH_PAGE ?? 2000);
const PARALLEL = Number(process.env.BENCH_PARALLEL_PAGES ?? 2);
// BENCH_LIMITS=1: the tenant caps contacts (3 a day, 10 a week: none is reached) and the journeys have an executor
// capacity (never reached), so every page locks its contacts and executors and counts their tasks.
const LIMITS = process.env.BENCH_LIMITS === '1';
const TEMPLATE = '{{ contact.name }}，您好！我是{{ owner.name }}。{{ contact.attributes.city | default: "您" }}的新品 Product B 到了，点击查看。';

const round = (x) => Math.round(x * 100) / 100;
function journey(segmentId) {
  return {
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: true, reentry: 'never' },
    steps: [0, 3, 7].map((offsetDays) => ({
      name: `Day ${offsetDays}`, offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: TEMPLATE, materials: [] }, executor: { rule: 'contactOwner' }, reminder: { mandatory: false },
    })),
    policies: { businessDaysOnly: false, priority: 50, overflow: 'defer', exitOn: [], onFinish: { addTagIds: [], removeTagIds: [] },
      ...(LIMITS ? { executorDailyCapacity: 10_000 } : {}) },
    schedule: undefined,
  };
}

async function seed(db, log) {
  const [{ id: tenantId }] = await db.query(`INSERT INTO tenants (name) VALUES ('Dispatch bench') RETURNING id`);
  if (LIMITS) await db.query(`UPDATE tenants SET contact_cap_per_day = 3, contact_cap_per_week = 10 WHERE id = $1`, [tenantId]);
  const owners = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash)
     SELECT $1, 'dispatch-emp-' || g || '@bench.example', '员工 ' || g, 'employee', 'x' FROM generate_series(1, 50) g RETURNING id`,
    [tenantId],
  )).map((r) => r.id);
  const [ms] = await timed(() => db.query(
    `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone, attributes)
     SELECT $1, 'ext-' || g, '客户 ' || g, ($2::uuid[])[1 + g % 50],
            CASE WHEN g % 10 = 0 THEN 'America/New_York' ELSE 'Asia/Shanghai' END,
            jsonb_build_object('city', (ARRAY['上海', '北京', '广州', '深圳'])[1 + g % 4])
       FROM generate_series(1, $3::int) g`,
    [tenantId, owners, CONTACTS],
  ));
  log(`Seeded ${CONTACTS} contacts in ${round(ms / 1000)} s`);
  return { tenantId, owners };
}

/** A segment with the first `size` contacts as open members (rows as populateSegment writes them). */
async function segmentOf(db, tenantId, name, size) {
  const [{ id }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, $2, '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId, name]);
  await db.query(
    `INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at)
     SELECT $1, $2, id, now() - interval '1 hour' FROM contacts WHERE tenant_id = $1 ORDER BY external_id LIMIT $3`,
    [tenantId, id, size]);
  // No ANALYZE here: the product's segments are written the same way, and autovacuum does not analyze 100,000 new
  // rows among 1,000,000 or more (under its 10% threshold), so the enrollment below meets a segment the planner
  // takes for one row, as a journey activated right after its segment was saved does (docs/measurements.md,
  // "Ten times the data"). BENCH_ANALYZE_SEGMENTS=1 analyzes, as the bench did before the engine handled it.
  if (process.env.BENCH_ANALYZE_SEGMENTS === '1') await db.query('ANALYZE segment_memberships');
  return id;
}

/** An active journey SOP with version 1 published, as activation leaves it. */
async function activeSop(db, tenantId, name, segmentId) {
  const def = journey(segmentId);
  const [{ id }] = await db.query(
    `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids) VALUES ($1, $2, 'journey', 'active', $3, 1, $4) RETURNING id`,
    [tenantId, name, def, [segmentId]]);
  const [{ id: versionId }] = await db.query(
    `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4) RETURNING id`,
    [tenantId, id, def, [segmentId]]);
  return { id, versionId };
}

async function benchEnroll(db, tenantId, segmentId, log) {
  const raw = await activeSop(db, tenantId, 'Raw enroll', segmentId);
  await db.query(`CREATE UNLOGGED TABLE bench_enroll_bare (LIKE enrollments INCLUDING DEFAULTS INCLUDING IDENTITY)`);
  await db.query('CHECKPOINT');
  const rawSelect = (table, sop) => db.query(
    `INSERT INTO ${table} (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
     SELECT m.tenant_id, $1, $2, m.contact_id, m.id, now(), now() FROM segment_memberships m WHERE m.segment_id = $3 AND m.exited_at IS NULL`,
    [sop.id, sop.versionId, segmentId]);
  const [bareMs] = await timed(() => rawSelect('bench_enroll_bare', raw));
  await db.query('CHECKPOINT');
  const [rawMs] = await timed(() => rawSelect('enrollments', raw));
  await db.query(`DELETE FROM enrollments WHERE sop_id = $1`, [raw.id]);
  await db.query('DROP TABLE bench_enroll_bare');
  await db.query('VACUUM ANALYZE enrollments');
  await db.query('CHECKPOINT');

  const sop = await activeSop(db, tenantId, 'Journey 1M', segmentId);
  // BENCH_EXPLAIN=steady: only the steady-state statement below (this one runs the whole enrollment a second time)
  if (process.env.BENCH_EXPLAIN && process.env.BENCH_EXPLAIN !== 'steady') await explainEnrollment(db, sop.id, sop.versionId, segmentId);
  const [engineMs, enrolled] = await timed(() => enrollEntrants(db, sop.id, new Date()));
  const [againMs, again] = await timed(() => enrollEntrants(db, sop.id, new Date()));
  log(`enroll: ${enrolled} contacts in ${round(engineMs / 1000)} s (again: ${again} in ${round(againMs / 1000)} s); `
    + `raw INSERT ... SELECT into enrollments ${round(rawMs / 1000)} s, into a bare table ${round(bareMs / 1000)} s`);
  return { enrolled, engineMs, rawMs, bareMs, again, againMs, sopId: sop.id };
}

/**
 * Exits per pass on the enrolled journey, with exit conditions (replied, bought, a tag added, left the
 * segment): a pass with no change, and a pass after 1,000 contacts changed (announced in the outbox, as
 * every writer does; their exit conditions do not hold, so all stay). Entries are moved out of the
 * late-commit window first, as in steady state.
 */
async function benchExits(db, sopId, segmentId, log) {
  const [{ id: tagId }] = await db.query(`SELECT gen_random_uuid() AS id`); // a tag no contact has
  const exitOn = [{ on: 'replied' }, { on: 'bought' }, { on: 'leftSegment' }, { on: 'tagAdded', tagId }];
  await db.query(`UPDATE sop_versions SET definition = jsonb_set(definition, '{policies,exitOn}', $2) WHERE sop_id = $1`, [sopId, JSON.stringify(exitOn)]);
  // next_due_at a day on as well: nothing is due, for the whole pass timed below (issue 14)
  await db.query(`UPDATE enrollments SET entered_at = entered_at - interval '10 minutes', next_due_at = next_due_at + interval '1 day' WHERE sop_id = $1`, [sopId]);
  await db.query('VACUUM ANALYZE enrollments');
  const [idleMs, idleExited] = await timed(() => applyExits(db, sopId));
  const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sopId]);
  await db.query(
    `INSERT INTO domain_events (tenant_id, type, payload)
     SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(contact_id), 'fields', '[]'::jsonb)
       FROM (SELECT contact_id FROM segment_memberships WHERE segment_id = $2 AND exited_at IS NULL LIMIT 1000) x`, [tenantId, segmentId]);
  const [changedMs, changedExited] = await timed(() => applyExits(db, sopId));
  // A whole dispatcher pass (prepareDispatch, one materialize page, nextDueAt) with no due work and another
  // 1,000 changed contacts: what every pass of a large SOP costs in steady state (issue 14).
  await db.query(
    `INSERT INTO domain_events (tenant_id, type, payload)
     SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(contact_id), 'fields', '[]'::jsonb)
       FROM (SELECT contact_id FROM segment_memberships WHERE segment_id = $2 AND exited_at IS NULL OFFSET 1000 LIMIT 1000) x`, [tenantId, segmentId]);
  const parts = {}; // milliseconds of each statement of the pass
  const part = async (name, fn) => {
    const [ms, value] = await timed(fn);
    parts[name] = round(ms);
    return value;
  };
  const [passMs, pass] = await timed(async () => {
    const enrolled = await part('enroll', () => enrollEntrants(db, sopId, new Date()));
    const exited = await part('exits', () => applyExits(db, sopId));
    const page = await part('materialize', () => materializeDuePage(db, sopId, new Date(), PAGE));
    await part('nextDueAt', () => nextDueAt(db, sopId));
    return { enrolled, exited, tasks: page.tasks, ms: parts };
  });
  if (process.env.BENCH_EXPLAIN) { // the steady-state enrollment statement (no entrants), after the timed pass
    const [{ version_id: versionId }] = await db.query(`SELECT id AS version_id FROM sop_versions WHERE sop_id = $1`, [sopId]);
    await explainEnrollment(db, sopId, versionId, segmentId);
  }
  log(`exits: a pass with no change ${round(idleMs)} ms (${idleExited} exited), with 1,000 changed contacts ${round(changedMs)} ms (${changedExited} exited); `
    + `a whole pass with no due work and 1,000 changed contacts ${round(passMs)} ms (${JSON.stringify(pass)})`);
  await db.query(`UPDATE sop_versions SET definition = jsonb_set(definition, '{policies,exitOn}', '[]') WHERE sop_id = $1`, [sopId]);
  return { idleMs, changedMs, passMs, parts, passWork: pass.enrolled + pass.tasks, exited: idleExited + changedExited + pass.exited };
}

async function benchMaterialize(db, tenantId, log) {
  const segmentId = await segmentOf(db, tenantId, 'Materialize', MATERIALIZE);
  const sop = await activeSop(db, tenantId, 'Journey 100k', segmentId);
  // The enrollment of a segment just written (statistics that do not know it yet), timed (issue 14)
  const [freshMs, freshEnrolled] = await timed(() => enrollEntrants(db, sop.id, new Date(Date.now() - 60_000)));
  log(`enroll a freshly written segment: ${freshEnrolled} contacts in ${round(freshMs / 1000)} s`);
  await db.query('VACUUM ANALYZE enrollments');
  await db.query('CHECKPOINT');

  // The floor: the same rows (content concatenated in SQL, owner as executor) in one INSERT ... SELECT.
  const rawInsert = (table, step) => db.query(
    `INSERT INTO ${table} (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, materials, due_at, due_until)
     SELECT e.tenant_id, e.sop_id, e.sop_version_id, ${step}, e.id, e.contact_id, c.owner_id, 'wecom_chat',
            c.name || '，您好！我是' || u.name || '。' || coalesce(c.attributes->>'city', '您') || '的新品 Product B 到了，点击查看。',
            '[]', now(), now() + interval '2 hours'
       FROM enrollments e JOIN contacts c ON c.id = e.contact_id LEFT JOIN users u ON u.id = c.owner_id
      WHERE e.sop_id = $1`,
    [sop.id]);
  await db.query(`CREATE UNLOGGED TABLE bench_tasks_bare (LIKE tasks INCLUDING DEFAULTS INCLUDING IDENTITY)`);
  const [bareMs] = await timed(() => rawInsert('bench_tasks_bare', 0));
  await db.query('DROP TABLE bench_tasks_bare');
  await db.query('CHECKPOINT');
  const [rawMs] = await timed(() => rawInsert('tasks', 99));
  await db.query(`DELETE FROM tasks WHERE sop_id = $1`, [sop.id]);
  await db.query('VACUUM ANALYZE tasks');
  await db.query('CHECKPOINT');

  let pages = 0;
  let tasks = 0;
  // As the dispatcher does: PARALLEL pages at once (rows claimed with SKIP LOCKED), until none is full.
  const [engineMs] = await timed(() => Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let more = true; more; pages++) {
      const page = await materializeDuePage(db, sop.id, new Date(), PAGE);
      tasks += page.tasks;
      more = page.more;
    }
  })));
  const [{ n, distinct }] = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT enrollment_id)::int AS distinct FROM tasks WHERE sop_id = $1`, [sop.id]);
  const [sample] = await db.query(`SELECT content FROM tasks WHERE sop_id = $1 LIMIT 1`, [sop.id]);
  log(`materialize: ${tasks} tasks in ${pages} pages of ${PAGE} (${PARALLEL} at once) in ${round(engineMs / 1000)} s (${n} rows, ${distinct} enrollments); `
    + `raw insert into tasks ${round(rawMs / 1000)} s, into a bare table ${round(bareMs / 1000)} s; sample: ${sample?.content}`);
  return { tasks: n, distinct, engineMs, rawMs, bareMs, freshMs, freshEnrolled };
}

/** The rejected design, for comparison: a workflow per enrollment that sleeps until due and creates one task. */
const PER_CONTACT_WORKFLOW = `
const { proxyActivities, sleep } = require('@temporalio/workflow');
const { createTask } = proxyActivities({ startToCloseTimeout: '1 minute' });
async function perContactJourneyWorkflow({ enrollmentId, dueAt }) {
  const wait = dueAt - Date.now();
  if (wait > 0) await sleep(wait);
  await createTask({ enrollmentId });
}
module.exports = { perContactJourneyWorkflow };
`;

async function benchWorkflows(db, dbUrl, tenantId, log) {
  const temporal = await startTemporal({ port: await freePort() });
  const connection = await NativeConnection.connect({ address: temporal.address });
  const clientConnection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection: clientConnection });
  try {
    const segmentId = await segmentOf(db, tenantId, 'Per contact', PER_CONTACT);
    const count = async (sopId) => (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [sopId]))[0].n;
    const waitForTasks = async (sopId, n) => {
      while ((await count(sopId)) < n) await new Promise((r) => setTimeout(r, 100));
    };
    const openWorkflows = async () => {
      let n = 0;
      for await (const execution of client.workflow.list({ query: 'ExecutionStatus="Running"' })) if (execution.workflowId) n++;
      return n;
    };

    // The engine: one dispatcher workflow for the SOP, whatever the number of contacts.
    const engineSop = await activeSop(db, tenantId, 'Engine 10k', segmentId);
    await enrollEntrants(db, engineSop.id, new Date(Date.now() - 60_000));
    const engineWorker = await createEngineWorker({ connection, namespace: 'default', db, taskQueue: 'bench-engine' });
    let engineOpen = 0;
    const [engineMs] = await timed(() => engineWorker.runUntil(async () => {
      await client.workflow.start('sopDispatcherWorkflow', { taskQueue: 'bench-engine', workflowId: `dispatch-${engineSop.id}`, args: [{ sopId: engineSop.id }] });
      await waitForTasks(engineSop.id, PER_CONTACT);
      engineOpen = await openWorkflows();
    }));

    // The rejected design: one workflow per enrollment, each creating its own task.
    const perSop = await activeSop(db, tenantId, 'Per contact 10k', segmentId);
    await enrollEntrants(db, perSop.id, new Date(Date.now() - 60_000));
    const render = compileTemplate(TEMPLATE);
    const createTask = async ({ enrollmentId }) => {
      const [row] = await db.query(
        `SELECT e.*, c.name, c.attributes, u.name AS owner_name, u.email AS owner_email, c.owner_id FROM enrollments e
           JOIN contacts c ON c.id = e.contact_id LEFT JOIN users u ON u.id = c.owner_id WHERE e.id = $1`, [enrollmentId]);
      const content = render({ contact: { name: row.name, attributes: row.attributes }, owner: { name: row.owner_name, email: row.owner_email }, sop: { name: 'x' }, step: { name: 'Day 0' } });
      await db.query(
        `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, due_at, due_until)
         VALUES ($1, $2, $3, 0, $4, $5, $6, 'wecom_chat', $7, now(), now() + interval '2 hours') ON CONFLICT DO NOTHING`,
        [row.tenant_id, row.sop_id, row.sop_version_id, row.id, row.contact_id, row.owner_id, content]);
      await db.query(`UPDATE enrollments SET next_step = 1 WHERE id = $1`, [row.id]);
    };
    const bundle = await bundleWorkflowCode({ workflowsPath: await writeTemp(PER_CONTACT_WORKFLOW), logger: quietLogger });
    const perWorker = await Worker.create({ connection, taskQueue: 'bench-per-contact', workflowBundle: bundle, activities: { createTask } });
    const ids = (await db.query(`SELECT id FROM enrollments WHERE sop_id = $1`, [perSop.id])).map((r) => r.id);
    let perOpen = 0;
    const [perMs] = await timed(() => perWorker.runUntil(async () => {
      const now = Date.now();
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(ids.slice(i, i + 100).map((id) => client.workflow.start('perContactJourneyWorkflow', {
          taskQueue: 'bench-per-contact', workflowId: `per-contact-${id}`, args: [{ enrollmentId: id, dueAt: now }],
        })));
        if (i === Math.floor(ids.length / 200) * 100) perOpen = await openWorkflows();
      }
      await waitForTasks(perSop.id, PER_CONTACT);
    }));
    log(`workflows: engine ${round(engineMs / 1000)} s for ${PER_CONTACT} enrollments with ${engineOpen} open workflow(s); `
      + `one workflow per contact ${round(perMs / 1000)} s (${perOpen} open half-way through starting)`);
    return { engineMs, perMs, engineOpen, perOpen };
  } finally {
    await clientConnection.close();
    await connection.close();
    await temporal.stop();
  }
}

/** The engine's enrollment statement explained as `enrollEntrants` runs it: its values and, for a bulk one, its setting. */
async function explainEnrollment(db, sopId, versionId, segmentId) {
  const now = new Date();
  const bounds = await enrollmentBounds(db, sopId, segmentId, now);
  await explain(db, enrollSql(false), [sopId, versionId, segmentId, now, bounds.tenantId, bounds.cursor, bounds.since],
    bounds.bulk ? ['SET LOCAL enable_nestloop = off'] : []);
}

/** EXPLAIN ANALYZE inside a rolled-back transaction (after `setup`), appended to .data/bench-dispatch-plans.txt. */
async function explain(db, sql, params, setup = []) {
  const { appendFileSync } = await import('node:fs');
  const runner = db.createQueryRunner();
  await runner.startTransaction();
  try {
    for (const statement of setup) await runner.query(statement);
    const rows = await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    appendFileSync(join(ROOT, '.data/bench-dispatch-plans.txt'), `${sql}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n\n`);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };

/** Written under .data/ so the bundler resolves @temporalio/workflow from the project's node_modules. */
async function writeTemp(source) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = join(ROOT, '.data/bench-per-contact');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'workflow.js');
  writeFileSync(file, source);
  return file;
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 12 } })).initialize();
  try {
    const { tenantId } = await seed(db, log);
    const segmentId = await segmentOf(db, tenantId, 'Everyone', CONTACTS);
    await db.query('ANALYZE');
    const enroll = await benchEnroll(db, tenantId, segmentId, log);
    const exits = await benchExits(db, enroll.sopId, segmentId, log);
    const materialize = await benchMaterialize(db, tenantId, log);
    const workflows = await benchWorkflows(db, databaseUrl, tenantId, log);
    const figures = {
      bench: 'dispatch',
      limits: LIMITS,
      enroll_contacts: enroll.enrolled,
      enroll_s: round(enroll.engineMs / 1000),
      enroll_vs_insert_ratio: round(enroll.engineMs / enroll.rawMs),
      enroll_vs_bare_insert_ratio: round(enroll.engineMs / enroll.bareMs),
      exits_pass_idle_ms: round(exits.idleMs),
      exits_pass_1000_changed_ms: round(exits.changedMs),
      pass_no_due_1000_changed_ms: round(exits.passMs),
      pass_parts_ms: exits.parts,
      enroll_again_ms: round(enroll.againMs),
      enroll_fresh_segment: materialize.freshEnrolled,
      enroll_fresh_segment_s: round(materialize.freshMs / 1000),
      materialize_tasks: materialize.tasks,
      materialize_s: round(materialize.engineMs / 1000),
      materialize_vs_insert_ratio: round(materialize.engineMs / materialize.rawMs),
      materialize_vs_bare_insert_ratio: round(materialize.engineMs / materialize.bareMs),
      per_contact_workflows: PER_CONTACT,
      per_contact_workflow_ratio: round(workflows.perMs / workflows.engineMs),
      open_workflows: workflows.engineOpen,
      per_contact_open_workflows: workflows.perOpen,
      // the bench database at the end (contacts, memberships, enrollments, tasks, Temporal's own data aside)
      db_size_mb: await dbSizeMb(db),
      contacts: CONTACTS,
    };
    const missed = [];
    if (enroll.enrolled !== CONTACTS) missed.push(`enrolled ${enroll.enrolled} of ${CONTACTS}`);
    if (enroll.again !== 0) missed.push(`enrolling again added ${enroll.again}`);
    if (figures.enroll_s > 60) missed.push(`enroll ${figures.enroll_s} s > 60 s`);
    if (figures.enroll_vs_insert_ratio > 2) missed.push(`enroll ${figures.enroll_vs_insert_ratio}x raw insert > 2x`);
    if (materialize.freshEnrolled !== MATERIALIZE) missed.push(`enrolled ${materialize.freshEnrolled} of a fresh segment of ${MATERIALIZE}`);
    if (figures.enroll_fresh_segment_s > 30) missed.push(`enroll a fresh segment of ${MATERIALIZE} ${figures.enroll_fresh_segment_s} s > 30 s`);
    if (materialize.tasks !== MATERIALIZE || materialize.distinct !== MATERIALIZE) missed.push(`materialized ${materialize.tasks} tasks for ${materialize.distinct} enrollments, not ${MATERIALIZE}`);
    if (figures.materialize_s > 10) missed.push(`materialize ${figures.materialize_s} s > 10 s`);
    if (figures.materialize_vs_insert_ratio > 2) missed.push(`materialize ${figures.materialize_vs_insert_ratio}x raw insert > 2x`);
    if (exits.exited !== 0) missed.push(`${exits.exited} exits where no exit condition holds`);
    if (exits.passWork !== 0) missed.push(`a pass with no due work enrolled or created ${exits.passWork}`);
    if (figures.pass_no_due_1000_changed_ms > 1000) missed.push(`a pass with no due work and 1,000 changed contacts ${figures.pass_no_due_1000_changed_ms} ms > 1 s`);
    if (figures.exits_pass_1000_changed_ms > 1000) missed.push(`exits pass with 1,000 changed contacts ${figures.exits_pass_1000_changed_ms} ms > 1 s`);
    if (workflows.engineOpen > 1) missed.push(`${workflows.engineOpen} open workflows for one SOP`);
    return { figures, missed };
  } finally {
    await db.destroy();
  }
}
