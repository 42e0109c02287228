// SOP engine benchmark (issue 4). On a fresh database with 1,000,000 contacts in one segment:
// - enroll all of them into a journey with the engine's set-based INSERT ... SELECT, against a raw
//   INSERT ... SELECT of the same rows (into the same table, and into a bare copy without indexes);
// - materialize 100,000 due tasks with rendered content, page by page, against a raw insert of the
//   same rows;
// - drive 10,000 enrollments through the engine's dispatcher workflow and, in the same run, as one
//   Temporal workflow per contact (the design we rejected), on a real Temporal dev server, twice: a plain
//   journey, and a realistic one (business days, quiet hours, contact caps, executor capacity, A/B variants,
//   materials, exit conditions) whose per-contact baseline applies the same rules with the engine's own code;
// - count open workflows while the engine runs.
// Each comparison runs its two sides under the same conditions (issue 14, "Honest baselines"): an untimed warm-up
// first, then the sides alternated (engine, raw, raw, engine; or A, B for one pair and B, A for the other), each
// from the same table state (the previous run's rows deleted, VACUUM ANALYZE, CHECKPOINT).
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const {
  applyExits, CONTACT_SCOPE_COLUMNS, contactScope, enrollmentBounds, enrollmentStatement, enrollEntrants, loadCalendar, materializeDuePage, nextDueAt, PageLimits,
  pickVariant,
} = require(join(ROOT, 'libs/engine/dist'));
const { compileTaskTemplate, compileTemplate, journeyDueWindow } = require(join(ROOT, 'libs/domain/dist'));
const { createEngineWorker } = require(join(ROOT, 'apps/worker/dist'));
const { bundleWorkflowCode, NativeConnection, Worker } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { cpuMeter, dbSizeMb, postgresPids, postmasterOf, timed } = await import(join(ROOT, 'bench/lib.mjs'));
const { startTemporal } = await import(join(ROOT, 'tools/lib/infra.mjs'));

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const MATERIALIZE = Number(process.env.BENCH_MATERIALIZE ?? 100_000);
const PER_CONTACT = Number(process.env.BENCH_PER_CONTACT ?? 10_000);
const PAGE = Number(process.env.BENCH_PAGE ?? 2000);
const PARALLEL = Number(process.env.BENCH_PARALLEL_PAGES ?? 2);
// BENCH_LIMITS=1: the tenant caps contacts (3 a day, 10 a week: none is reached) and the journeys have an executor
// capacity (never reached), so every page locks its contacts and executors and counts their tasks.
const LIMITS = process.env.BENCH_LIMITS === '1';
/** Enrollments of the untimed warm-up of each design, before the timed per-contact comparisons. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const TARGET_PER_CONTACT_RATIO = 10;
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

/** Windows of the realistic journey's steps, in each contact's zone; quiet hours cut 21:00-21:30 off. */
const REALISTIC_WINDOW = { start: '09:00', end: '21:30' };
const REALISTIC_QUIET = { start: '21:00', end: '08:30' };
const REALISTIC_OFFSETS = [0, 3, 7];

/**
 * The realistic configuration: business days only (the tenant's calendar), quiet hours, executor capacity (10,000 a
 * day: never reached), A/B variants, two materials, four exit conditions (none holds); the tenant caps contacts at
 * 3 a day and 10 a week while it runs (not reached either: each contact gets at most 3 tasks a day in this bench).
 */
function realisticJourney(segmentId, exitTagId) {
  const def = journey(segmentId);
  return {
    ...def,
    steps: REALISTIC_OFFSETS.map((offsetDays, i) => ({
      ...def.steps[i], window: REALISTIC_WINDOW,
      content: {
        template: TEMPLATE,
        variants: [
          { name: 'A', weight: 50, template: TEMPLATE },
          { name: 'B', weight: 50, template: '{{ contact.name }}，{{ contact.attributes.city | default: "您" }}门店本周有新品 Product B，{{ owner.name }}给您留了一份。' },
        ],
        materials: [
          { title: 'Product B 图文', url: 'https://shop.example/product-b', tagIds: [exitTagId] },
          { title: '新品优惠券', url: 'https://shop.example/coupon-b', tagIds: [] },
        ],
      },
    })),
    policies: {
      ...def.policies, businessDaysOnly: true, quietHours: REALISTIC_QUIET, executorDailyCapacity: 10_000,
      exitOn: [{ on: 'replied' }, { on: 'bought' }, { on: 'leftSegment' }, { on: 'tagAdded', tagId: exitTagId }],
    },
  };
}

/**
 * The realistic journey's entry instant: the latest one (now, or a whole number of days back) at which day 0's
 * window has already opened for contacts in every zone and day 3's has not, so that both designs make exactly one
 * task per enrollment now (with business days only, a weekend or a holiday has no window today).
 */
function realisticEntry(calendar, zones, now = new Date()) {
  const policy = (zone) => ({ zone, calendar, businessDaysOnly: true, quietHours: REALISTIC_QUIET });
  let fallback;
  for (let days = 0; days <= 40; days++) {
    const entered = new Date(now.getTime() - days * 86_400_000 - 60_000);
    const first = zones.every((z) => journeyDueWindow(entered, 0, REALISTIC_WINDOW, policy(z)).dueAt <= now);
    if (!first) continue;
    fallback ??= entered;
    if (zones.every((z) => journeyDueWindow(entered, REALISTIC_OFFSETS[1], REALISTIC_WINDOW, policy(z)).dueAt > now)) return entered;
  }
  if (!fallback) throw new Error('no entry instant within 40 days has day 0 open');
  return fallback;
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

/** A segment with `size` contacts (after the first `offset`) as open members (rows as populateSegment writes them). */
async function segmentOf(db, tenantId, name, size, offset = 0) {
  const [{ id }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, $2, '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId, name]);
  await db.query(
    `INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at)
     SELECT $1, $2, id, now() FROM contacts WHERE tenant_id = $1 ORDER BY external_id LIMIT $3 OFFSET $4`,
    [tenantId, id, size, offset]);
  // Entered now, as a segment saved just before its journey's activation: the passes right after the bulk
  // enrollment meet them as the product's do (they were backdated an hour, which hid the late-commit window's
  // re-reading of every new member for five minutes).
  // No ANALYZE here: the product's segments are written the same way, and autovacuum does not analyze 100,000 new
  // rows among 1,000,000 or more (under its 10% threshold), so the enrollment below meets a segment the planner
  // takes for one row, as a journey activated right after its segment was saved does (docs/measurements.md,
  // "Ten times the data"). BENCH_ANALYZE_SEGMENTS=1 analyzes, as the bench did before the engine handled it.
  if (process.env.BENCH_ANALYZE_SEGMENTS === '1') await db.query('ANALYZE segment_memberships');
  return id;
}

/** An active journey SOP with version 1 published, as activation leaves it. */
async function activeSop(db, tenantId, name, segmentId, def = journey(segmentId)) {
  const [{ id }] = await db.query(
    `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids) VALUES ($1, $2, 'journey', 'active', $3, 1, $4) RETURNING id`,
    [tenantId, name, def, [segmentId]]);
  const [{ id: versionId }] = await db.query(
    `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4) RETURNING id`,
    [tenantId, id, def, [segmentId]]);
  return { id, versionId };
}

/**
 * Runs `runs` in order, each after `reset` (the previous run's rows deleted, VACUUM ANALYZE, CHECKPOINT): milliseconds
 * of each, and the CPU seconds this process and Postgres used meanwhile (on a shared machine, wall time minus CPU
 * time is time spent waiting for a core).
 */
async function alternate(db, reset, runs) {
  const out = [];
  for (const [name, fn] of runs) {
    await reset();
    const [{ pid }] = await db.query('SELECT pg_backend_pid() AS pid');
    const postmaster = postmasterOf(pid);
    const pids = () => [process.pid, ...postgresPids(postmaster)];
    const cpu = cpuMeter(pids);
    const [ms] = await timed(fn);
    out.push([name, ms, cpu.stop()]);
  }
  return out;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const samples = (runs, name) => runs.filter(([n]) => n === name).map(([, ms]) => ms);
const cpuOf = (runs, name) => runs.filter(([n]) => n === name).map(([, , cpu]) => cpu);

async function benchEnroll(db, tenantId, segmentId, log) {
  const raw = await activeSop(db, tenantId, 'Raw enroll', segmentId);
  await db.query(`CREATE UNLOGGED TABLE bench_enroll_bare (LIKE enrollments INCLUDING DEFAULTS INCLUDING IDENTITY)`);
  await db.query('CHECKPOINT');
  const rawSelect = (table, sop) => db.query(
    `INSERT INTO ${table} (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
     SELECT m.tenant_id, $1, $2, m.contact_id, m.id, now(), now() FROM segment_memberships m WHERE m.segment_id = $3 AND m.exited_at IS NULL`,
    [sop.id, sop.versionId, segmentId]);
  const [bareMs] = await timed(() => rawSelect('bench_enroll_bare', raw));
  await db.query('DROP TABLE bench_enroll_bare');

  // BENCH_EXPLAIN=steady: only the steady-state statement (this one runs the whole enrollment a second time)
  if (process.env.BENCH_EXPLAIN && process.env.BENCH_EXPLAIN !== 'steady') {
    const explained = await activeSop(db, tenantId, 'Explained enroll', segmentId);
    await explainEnrollment(db, explained.id, explained.versionId, segmentId);
  }
  // Same conditions for both (issue 14): an untimed raw insert first (the table's files grown, the memberships
  // read), then engine, raw, raw, engine, each into an emptied and vacuumed table after a checkpoint. Each engine
  // run is a new SOP (a contact enters an SOP once); the last one's enrollments stay for the rest of the bench.
  let last = null;
  const reset = async () => {
    if (last) await db.query(`DELETE FROM enrollments WHERE sop_id = $1`, [last]);
    await db.query('VACUUM ANALYZE enrollments');
    await db.query('CHECKPOINT');
  };
  const rawRun = async () => { last = raw.id; await rawSelect('enrollments', raw); };
  let sop;
  let enrolled = 0;
  let n = 0;
  const engineRun = async () => {
    sop = await activeSop(db, tenantId, `Journey 1M (${++n})`, segmentId);
    last = sop.id;
    enrolled = await enrollEntrants(db, sop.id, new Date());
  };
  const runs = await alternate(db, reset, [['warm-up', rawRun], ['engine', engineRun], ['raw', rawRun], ['raw', rawRun], ['engine', async () => {
    await engineRun();
    last = null; // kept
  }]]);
  const engine = samples(runs, 'engine');
  const rawMs = samples(runs, 'raw');
  const engineMs = mean(engine);
  const [againMs, again] = await timed(() => enrollEntrants(db, sop.id, new Date()));
  const fmt = (xs) => xs.map((ms) => round(ms / 1000)).join(', ');
  log(`enroll: ${enrolled} contacts in ${fmt(engine)} s (engine, 2 runs; again: ${again} in ${round(againMs / 1000)} s); `
    + `raw INSERT ... SELECT into enrollments ${fmt(rawMs)} s, into a bare table ${round(bareMs / 1000)} s`);
  return { enrolled, engineMs, rawMs: mean(rawMs), bareMs, again, againMs, sopId: sop.id, samples: { engine: engine.map(round), raw: rawMs.map(round) },
    cpu: { engine: cpuOf(runs, 'engine'), raw: cpuOf(runs, 'raw') } };
}

/**
 * Exits per pass on the enrolled journey, with exit conditions (replied, bought, a tag added, left the
 * segment): first the passes right after the bulk enrollment, which re-check every enrollment it wrote (the
 * late-commit re-check, bounded by transaction ids: about two passes), until the re-check bound has passed it;
 * then, in steady state, a pass with no change, and a pass after 1,000 contacts changed (announced in the outbox, as
 * every writer does; their exit conditions do not hold, so all stay).
 */
async function benchExits(db, sopId, segmentId, log) {
  const [{ id: tagId }] = await db.query(`SELECT gen_random_uuid() AS id`); // a tag no contact has
  const exitOn = [{ on: 'replied' }, { on: 'bought' }, { on: 'leftSegment' }, { on: 'tagAdded', tagId }];
  await db.query(`UPDATE sop_versions SET definition = jsonb_set(definition, '{policies,exitOn}', $2) WHERE sop_id = $1`, [sopId, JSON.stringify(exitOn)]);
  // next_due_at a day on as well: nothing is due, for the whole pass timed below (issue 14)
  await db.query(`UPDATE enrollments SET entered_at = entered_at - interval '10 minutes', next_due_at = next_due_at + interval '1 day' WHERE sop_id = $1`, [sopId]);
  await db.query('VACUUM ANALYZE enrollments');
  const [{ last }] = await db.query(`SELECT entered_xid::text AS last FROM enrollments WHERE sop_id = $1 ORDER BY entered_xid DESC LIMIT 1`, [sopId]);
  const recheckPassed = async () => (await db.query(`SELECT exit_recheck_from > $2::xid8 AS passed FROM sops WHERE id = $1`, [sopId, last]))[0].passed;
  const firstPassesMs = [];
  while (!(await recheckPassed()) && firstPassesMs.length < 5) firstPassesMs.push(round((await timed(() => applyExits(db, sopId)))[0]));
  const [idleMs, idleExited] = await timed(() => applyExits(db, sopId));
  const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sopId]);
  await changeContacts(db, tenantId, segmentId, 0);
  const [changedMs, changedExited] = await timed(() => applyExits(db, sopId));
  // A whole dispatcher pass (prepareDispatch, one materialize page, nextDueAt) with no due work and another
  // 1,000 changed contacts: what every pass of a large SOP costs in steady state (issue 14).
  await changeContacts(db, tenantId, segmentId, 1000);
  const parts = {}; // milliseconds of each statement of the pass
  const part = async (name, fn) => {
    const [ms, value] = await timed(fn);
    parts[name] = round(ms);
    return value;
  };
  const [passMs, pass] = await timed(async () => {
    const exited = await part('exits', () => applyExits(db, sopId));
    const enrolled = await part('enroll', () => enrollEntrants(db, sopId, new Date()));
    const page = await part('materialize', () => materializeDuePage(db, sopId, new Date(), PAGE));
    await part('nextDueAt', () => nextDueAt(db, sopId));
    return { enrolled, exited, tasks: page.tasks, ms: parts };
  });
  if (process.env.BENCH_EXPLAIN) { // the steady-state statements, after the timed pass: enrollment (no entrants), exits
    const [{ version_id: versionId }] = await db.query(`SELECT id AS version_id FROM sop_versions WHERE sop_id = $1`, [sopId]);
    await explainEnrollment(db, sopId, versionId, segmentId);
    await changeContacts(db, tenantId, segmentId, 2000); // a third 1,000, so the plans show a pass like the timed one
    await explainCalls(db, (explained) => applyExits(explained, sopId));
    await explainCalls(db, (explained) => applyExits(explained, sopId)); // and one with no change since
  }
  log(`exits: the first passes after the bulk enrollment ${firstPassesMs.join(', ')} ms (the re-check bound ${(await recheckPassed()) ? 'passed it' : 'not past it yet'}); `
    + `a pass with no change ${round(idleMs)} ms (${idleExited} exited), with 1,000 changed contacts ${round(changedMs)} ms (${changedExited} exited); `
    + `a whole pass with no due work and 1,000 changed contacts ${round(passMs)} ms (${JSON.stringify(pass)})`);
  await db.query(`UPDATE sop_versions SET definition = jsonb_set(definition, '{policies,exitOn}', '[]') WHERE sop_id = $1`, [sopId]);
  return { firstPassesMs, idleMs, changedMs, passMs, parts, passWork: pass.enrolled + pass.tasks, exited: idleExited + changedExited + pass.exited };
}

/** 1,000 of the segment's contacts (from `offset` on, in a stable order, so calls never overlap) changed, announced in the outbox as every writer does. */
async function changeContacts(db, tenantId, segmentId, offset) {
  await db.query(
    `INSERT INTO domain_events (tenant_id, type, payload)
     SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(contact_id), 'fields', '[]'::jsonb)
       FROM (SELECT contact_id FROM segment_memberships WHERE segment_id = $2 AND exited_at IS NULL ORDER BY contact_id OFFSET $3 LIMIT 1000) x`,
    [tenantId, segmentId, offset]);
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

  let pages = 0;
  let tasks = 0;
  // As the dispatcher does: PARALLEL pages at once (rows claimed with SKIP LOCKED), until none is full.
  const engineRun = () => Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let more = true; more; pages++) {
      const page = await materializeDuePage(db, sop.id, new Date(), PAGE);
      tasks += page.tasks;
      more = page.more;
    }
  }));
  // Same conditions for both (issue 14): an untimed raw insert first, then engine, raw, raw, engine, each from the
  // same state (the SOP's tasks deleted, its enrollments due at step 0 again, VACUUM ANALYZE, CHECKPOINT).
  const reset = async () => {
    await db.query(`DELETE FROM tasks WHERE sop_id = $1`, [sop.id]);
    await db.query(
      `UPDATE enrollments SET next_step = 0, next_due_at = entered_at, status = 'active', closed_at = NULL, close_reason = NULL, finished_at = NULL
        WHERE sop_id = $1`, [sop.id]);
    await db.query('VACUUM ANALYZE tasks, enrollments');
    await db.query('CHECKPOINT');
    pages = 0;
    tasks = 0;
  };
  const runs = await alternate(db, reset, [['warm-up', () => rawInsert('tasks', 99)], ['engine', engineRun], ['raw', () => rawInsert('tasks', 99)],
    ['raw', () => rawInsert('tasks', 99)], ['engine', engineRun]]);
  const engine = samples(runs, 'engine');
  const raw = samples(runs, 'raw');
  const engineMs = mean(engine);
  const rawMs = mean(raw);
  const [{ n, distinct }] = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT enrollment_id)::int AS distinct FROM tasks WHERE sop_id = $1`, [sop.id]);
  const [sample] = await db.query(`SELECT content FROM tasks WHERE sop_id = $1 LIMIT 1`, [sop.id]);
  const fmt = (xs) => xs.map((ms) => round(ms / 1000)).join(', ');
  log(`materialize: ${tasks} tasks in ${pages} pages of ${PAGE} (${PARALLEL} at once) in ${fmt(engine)} s (engine, 2 runs; ${n} rows, ${distinct} enrollments); `
    + `raw insert into tasks ${fmt(raw)} s, into a bare table ${round(bareMs / 1000)} s; sample: ${sample?.content}`);
  return { tasks: n, distinct, engineMs, rawMs, bareMs, freshMs, freshEnrolled, samples: { engine: engine.map(round), raw: raw.map(round) },
    cpu: { engine: cpuOf(runs, 'engine'), raw: cpuOf(runs, 'raw') } };
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

/**
 * The per-contact design's activity for the realistic journey: the same rules as the engine's page, for one
 * enrollment, with the engine's own code where it has some (due window, limits, variant, template): in one
 * transaction, the exit conditions, the window in the contact's zone on business days outside quiet hours, the
 * contact caps and the executor's capacity (PageLimits, which locks the contact and the executor), the variant,
 * the rendered content with the materials, the task and the enrollment's next step. Versions and the calendar are
 * read once per worker, as a per-contact worker would cache them. (Leaves are not looked at: the bench has none.)
 */
function realisticCreateTask(db) {
  const versions = new Map();
  const renderers = new Map();
  let calendar;
  return ({ enrollmentId }) => db.transaction(async (m) => {
    const [row] = await m.query(
      `SELECT e.id::text, e.tenant_id, e.sop_id, e.sop_version_id, e.contact_id, e.next_step, e.entered_at, e.status, c.owner_id,
              u.name AS owner_name, u.email AS owner_email, ${CONTACT_SCOPE_COLUMNS}
         FROM enrollments e JOIN contacts c ON c.id = e.contact_id LEFT JOIN users u ON u.id = c.owner_id
        WHERE e.id = $1 FOR UPDATE OF e`, [enrollmentId]);
    if (!row || row.status !== 'active') return;
    let def = versions.get(row.sop_version_id);
    if (!def) versions.set(row.sop_version_id, (def = (await m.query(`SELECT definition FROM sop_versions WHERE id = $1`, [row.sop_version_id]))[0].definition));
    calendar ??= await loadCalendar(m, row.tenant_id);
    // The exit conditions, as the engine's applyExits states them, for this enrollment.
    const params = [row.id];
    const param = (v) => `$${params.push(v)}`;
    const conditions = def.policies.exitOn.map((exit) => {
      if (exit.on === 'leftSegment') {
        return `WHEN NOT EXISTS (SELECT 1 FROM segment_memberships sm WHERE sm.segment_id = ${param(def.audience.segmentId)} AND sm.contact_id = e.contact_id AND sm.exited_at IS NULL) THEN 'left the segment'`;
      }
      if (exit.on === 'replied' || exit.on === 'bought') {
        const column = exit.on === 'replied' ? 'last_responded_at' : 'last_order_at';
        return `WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.id = e.contact_id AND c.${column} > e.entered_at) THEN '${exit.on}'`;
      }
      const action = exit.on === 'tagAdded' ? 'added' : 'removed';
      return `WHEN EXISTS (SELECT 1 FROM tag_events te WHERE te.contact_id = e.contact_id AND te.tag_id = ${param(exit.tagId)}
        AND te.action = '${action}' AND te.at > e.entered_at) THEN 'tag ${action}'`;
    });
    if (conditions.length) {
      const [{ reason }] = await m.query(`SELECT CASE ${conditions.join(' ')} END AS reason FROM enrollments e WHERE e.id = $1`, params);
      if (reason) {
        await m.query(`UPDATE enrollments SET status = 'exited', closed_at = now(), close_reason = $2, next_due_at = NULL WHERE id = $1`, [row.id, reason]);
        return;
      }
    }
    const step = def.steps[row.next_step];
    const policy = { zone: row.timezone, calendar, businessDaysOnly: def.policies.businessDaysOnly, quietHours: def.policies.quietHours };
    const window = journeyDueWindow(row.entered_at, step.offsetDays ?? 0, step.window, policy);
    const candidate = { contactId: row.contact_id, zone: row.timezone, executorId: row.owner_id, dueAt: window.dueAt };
    const limits = await PageLimits.load(m, row.tenant_id, [candidate], {
      priority: def.policies.priority, capacity: def.policies.executorDailyCapacity, overflow: def.policies.overflow, zone: def.timezone, teamOf: new Map(),
    });
    const admission = limits.admit(candidate);
    if (!admission.admitted) throw new Error(`the bench's limits are never reached, but ${admission.reason} refused enrollment ${row.id}`);
    await limits.writeBumps(m);
    const { name: variant, template } = pickVariant(step, row.id);
    let render = renderers.get(template);
    if (!render) renderers.set(template, (render = compileTaskTemplate(template)));
    const { content, heldReason } = render({
      contact: contactScope(row), owner: row.owner_id ? { name: row.owner_name, email: row.owner_email } : null,
      sop: { name: 'x' }, step: { name: step.name }, executor: row.owner_id ? { name: row.owner_name, email: row.owner_email } : null,
    });
    await m.query(
      `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, variant, materials,
                          due_at, due_until, held_reason, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, CASE WHEN $14::text IS NULL THEN 'pending' ELSE 'held' END) ON CONFLICT DO NOTHING`,
      [row.tenant_id, row.sop_id, row.sop_version_id, row.next_step, row.id, row.contact_id, admission.executorId, step.channel, content, variant,
        JSON.stringify(step.content.materials), window.dueAt, window.dueUntil, heldReason]);
    const next = def.steps[row.next_step + 1];
    const nextDue = next ? journeyDueWindow(row.entered_at, next.offsetDays ?? 0, next.window, policy).dueAt : null;
    await m.query(`UPDATE enrollments SET next_step = $2, next_due_at = $3, status = $4 WHERE id = $1`,
      [row.id, row.next_step + 1, nextDue, next ? 'active' : 'completed']);
  });
}

/**
 * The engine's dispatcher against one workflow per contact, for a plain and a realistic journey. Both workers run
 * from the start to the end (each polls its own queue); both designs are warmed up on contacts of their own first
 * (untimed), then timed in the order engine, per contact (plain), per contact, engine (realistic), each on a fresh
 * SOP over the same segment, each until its last day-0 task exists (open workflows are counted outside the clock).
 */
async function benchWorkflows(db, tenantId, log) {
  if (CONTACTS < 2 * PER_CONTACT + 4 * WARMUP) throw new Error(`BENCH_CONTACTS must be at least 2 × BENCH_PER_CONTACT + 4 × BENCH_WARMUP`);
  const temporal = await startTemporal({ port: await freePort() });
  const connection = await NativeConnection.connect({ address: temporal.address });
  const clientConnection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection: clientConnection });
  const workers = [];
  try {
    // Contacts of their own for each segment: the tenant's caps (3 a day) count across SOPs.
    const plainSegment = await segmentOf(db, tenantId, 'Per contact', PER_CONTACT);
    const realisticSegment = await segmentOf(db, tenantId, 'Per contact, realistic', PER_CONTACT, PER_CONTACT);
    const warmSegments = await Promise.all([0, 1].map((i) => segmentOf(db, tenantId, `Warm-up ${i}`, WARMUP, 2 * PER_CONTACT + i * 2 * WARMUP)));
    const [{ id: exitTagId }] = await db.query(`SELECT gen_random_uuid() AS id`); // a tag no contact has
    const count = async (sopId) => (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1 AND step_index = 0`, [sopId]))[0].n;
    const waitForTasks = async (sopId, n) => {
      while ((await count(sopId)) < n) await new Promise((r) => setTimeout(r, 100));
    };
    const openWorkflows = async () => {
      let n = 0;
      for await (const execution of client.workflow.list({ query: 'ExecutionStatus="Running"' })) if (execution.workflowId) n++;
      return n;
    };
    const zones = (await db.query(`SELECT DISTINCT timezone FROM contacts WHERE tenant_id = $1`, [tenantId])).map((r) => r.timezone);
    const entered = { plain: () => new Date(Date.now() - 60_000), realistic: realisticEntry(await loadCalendar(db, tenantId), zones) };
    const definitions = { plain: (segmentId) => journey(segmentId), realistic: (segmentId) => realisticJourney(segmentId, exitTagId) };
    log(`workflows: the realistic journey's contacts enter at ${entered.realistic.toISOString()} (day 0's window open in ${zones.join(', ')})`);

    const engineWorker = await createEngineWorker({ connection, namespace: 'default', db, taskQueue: 'bench-engine' });
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
    const perWorkers = {
      plain: await Worker.create({ connection, taskQueue: 'bench-per-contact', workflowBundle: bundle, activities: { createTask } }),
      realistic: await Worker.create({ connection, taskQueue: 'bench-per-contact-realistic', workflowBundle: bundle, activities: { createTask: realisticCreateTask(db) } }),
    };
    const queues = { plain: 'bench-per-contact', realistic: 'bench-per-contact-realistic' };
    for (const w of [engineWorker, perWorkers.plain, perWorkers.realistic]) workers.push({ worker: w, running: w.run() });

    let sops = 0;
    const enrolledSop = async (kind, segmentId) => {
      const sop = await activeSop(db, tenantId, `${kind} ${++sops}`, segmentId, definitions[kind](segmentId));
      const n = await enrollEntrants(db, sop.id, kind === 'plain' ? entered.plain() : entered.realistic);
      return { sop, n };
    };
    // One dispatcher workflow for the SOP, whatever the number of contacts.
    const engineRun = async (kind, segmentId) => {
      const { sop, n } = await enrolledSop(kind, segmentId);
      const before = await openWorkflows();
      const t = performance.now();
      await client.workflow.start('sopDispatcherWorkflow', { taskQueue: 'bench-engine', workflowId: `dispatch-${sop.id}`, args: [{ sopId: sop.id }] });
      await waitForTasks(sop.id, n);
      const ms = performance.now() - t;
      return { ms, n, open: (await openWorkflows()) - before };
    };
    // The rejected design: one workflow per enrollment, each creating its own task.
    const perContactRun = async (kind, segmentId) => {
      const { sop, n } = await enrolledSop(kind, segmentId);
      const ids = (await db.query(`SELECT id FROM enrollments WHERE sop_id = $1`, [sop.id])).map((r) => r.id);
      const before = await openWorkflows();
      let open = 0;
      let countingMs = 0; // the half-way count of open workflows, taken off the clock
      const t = performance.now();
      const now = Date.now();
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(ids.slice(i, i + 100).map((id) => client.workflow.start('perContactJourneyWorkflow', {
          taskQueue: queues[kind], workflowId: `per-contact-${id}`, args: [{ enrollmentId: id, dueAt: now }],
        })));
        if (i === Math.floor(ids.length / 200) * 100) {
          const c = performance.now();
          open = (await openWorkflows()) - before;
          countingMs += performance.now() - c;
        }
      }
      await waitForTasks(sop.id, n);
      return { ms: performance.now() - t - countingMs, n, open };
    };

    // Caps on for the realistic runs (3 a day, 10 a week; with BENCH_LIMITS they are on already).
    const setCaps = (on) => db.query(`UPDATE tenants SET contact_cap_per_day = $2, contact_cap_per_week = $3 WHERE id = $1`,
      [tenantId, on || LIMITS ? 3 : null, on || LIMITS ? 10 : null]);
    const [warmMs] = await timed(async () => {
      await engineRun('plain', warmSegments[0]);
      await perContactRun('plain', warmSegments[0]);
      await setCaps(true);
      await perContactRun('realistic', warmSegments[1]);
      await engineRun('realistic', warmSegments[1]);
      await setCaps(false);
    });
    log(`workflows: warm-up of both designs, plain and realistic, ${WARMUP} enrollments each, in ${round(warmMs / 1000)} s`);
    const plain = { engine: await engineRun('plain', plainSegment), perContact: await perContactRun('plain', plainSegment) };
    await setCaps(true);
    const realistic = { perContact: await perContactRun('realistic', realisticSegment) };
    realistic.engine = await engineRun('realistic', realisticSegment);
    await setCaps(false);
    for (const [kind, r] of Object.entries({ plain, realistic })) {
      if (r.engine.n !== PER_CONTACT || r.perContact.n !== PER_CONTACT) throw new Error(`${kind}: enrolled ${r.engine.n} and ${r.perContact.n}, not ${PER_CONTACT}`);
      log(`workflows, ${kind}: engine ${round(r.engine.ms / 1000)} s for ${PER_CONTACT} enrollments with ${r.engine.open} open workflow(s); `
        + `one workflow per contact ${round(r.perContact.ms / 1000)} s (${r.perContact.open} open half-way through starting): ${round(r.perContact.ms / r.engine.ms)}x`);
    }
    const [{ variants }] = await db.query(
      `SELECT jsonb_object_agg(coalesce(variant, '-'), n) AS variants FROM (SELECT variant, count(*)::int AS n FROM tasks t JOIN sops s ON s.id = t.sop_id
        WHERE s.tenant_id = $1 AND s.name LIKE 'realistic%' GROUP BY 1) x`, [tenantId]);
    return { plain, realistic, variants };
  } finally {
    for (const { worker } of workers) worker.shutdown();
    await Promise.allSettled(workers.map((w) => w.running));
    await clientConnection.close();
    await connection.close();
    await temporal.stop();
  }
}

/** The engine's enrollment statement explained as `enrollEntrants` runs it: its values and, for a bulk one, its setting. */
async function explainEnrollment(db, sopId, versionId, segmentId) {
  const now = new Date();
  const bounds = await enrollmentBounds(db, sopId, segmentId, now);
  const { sql, params, settingsOff } = enrollmentStatement({ sopId, versionId, segmentId, now, reentry: false }, bounds);
  await explain(db, sql, params, settingsOff.map((name) => `SET LOCAL ${name} = off`));
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

/**
 * Runs `call` (the engine's own function) on one connection whose statements' executed plans, with buffers and I/O
 * times, auto_explain appends to .data/bench-dispatch-plans.txt (as notices, read here; LOAD needs the bench's
 * superuser). For statements the engine builds inside a transaction, which `explain` cannot re-create.
 */
async function explainCalls(db, call) {
  const { appendFileSync } = await import('node:fs');
  const runner = db.createQueryRunner();
  await runner.connect();
  const plans = [];
  const collect = (notice) => { if (notice.message.includes('plan:')) plans.push(notice.message); };
  runner.databaseConnection.on('notice', collect);
  try {
    await runner.query(`LOAD 'auto_explain'`);
    for (const setting of ['track_io_timing = on', 'auto_explain.log_min_duration = 0', 'auto_explain.log_analyze = on',
      'auto_explain.log_buffers = on', 'auto_explain.log_timing = on', "auto_explain.log_level = 'notice'"]) await runner.query(`SET ${setting}`);
    await call(runner.manager); // its query and transaction run on this runner's connection
    appendFileSync(join(ROOT, '.data/bench-dispatch-plans.txt'), `${plans.join('\n\n')}\n\n`);
  } finally {
    // the connection goes back to the pool: later statements on it must not be explained (auto_explain stays loaded, off)
    await runner.query('RESET ALL');
    runner.databaseConnection.off('notice', collect);
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

/**
 * BENCH_ONLY=exits: one engine enrollment of the whole segment, then the exit and steady-pass figures, without the
 * alternated enrollments, materialize and workflows (about half an hour at 10,000,000 contacts instead of two).
 */
async function onlyExits(db, tenantId, segmentId, log) {
  const sop = await activeSop(db, tenantId, 'Journey (exits only)', segmentId);
  const [enrollMs, enrolled] = await timed(() => enrollEntrants(db, sop.id, new Date()));
  log(`enroll: ${enrolled} contacts in ${round(enrollMs / 1000)} s (engine, one run, not alternated)`);
  const exits = await benchExits(db, sop.id, segmentId, log);
  const figures = {
    bench: 'dispatch', only: 'exits', enroll_contacts: enrolled, enroll_s: round(enrollMs / 1000),
    exits_first_passes_ms: exits.firstPassesMs, exits_pass_idle_ms: round(exits.idleMs), exits_pass_1000_changed_ms: round(exits.changedMs),
    pass_no_due_1000_changed_ms: round(exits.passMs), pass_parts_ms: exits.parts,
    load_avg_1m: round(loadavg()[0]), db_size_mb: await dbSizeMb(db), contacts: CONTACTS,
  };
  return { figures, missed: exitMisses(figures, exits) };
}

/** The exit and steady-pass targets (issue 14). */
function exitMisses(figures, exits) {
  const missed = [];
  if (exits.exited !== 0) missed.push(`${exits.exited} exits where no exit condition holds`);
  if (exits.passWork !== 0) missed.push(`a pass with no due work enrolled or created ${exits.passWork}`);
  if (figures.pass_no_due_1000_changed_ms > 1000) missed.push(`a pass with no due work and 1,000 changed contacts ${figures.pass_no_due_1000_changed_ms} ms > 1 s`);
  if (figures.exits_pass_1000_changed_ms > 1000) missed.push(`exits pass with 1,000 changed contacts ${figures.exits_pass_1000_changed_ms} ms > 1 s`);
  return missed;
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 12 } })).initialize();
  try {
    const { tenantId } = await seed(db, log);
    const segmentId = await segmentOf(db, tenantId, 'Everyone', CONTACTS);
    await db.query('ANALYZE');
    if (process.env.BENCH_ONLY === 'exits') return await onlyExits(db, tenantId, segmentId, log);
    const enroll = await benchEnroll(db, tenantId, segmentId, log);
    const exits = await benchExits(db, enroll.sopId, segmentId, log);
    const materialize = await benchMaterialize(db, tenantId, log);
    const workflows = await benchWorkflows(db, tenantId, log);
    const figures = {
      bench: 'dispatch',
      limits: LIMITS,
      enroll_contacts: enroll.enrolled,
      enroll_s: round(enroll.engineMs / 1000),
      enroll_vs_insert_ratio: round(enroll.engineMs / enroll.rawMs),
      enroll_vs_bare_insert_ratio: round(enroll.engineMs / enroll.bareMs),
      enroll_samples_ms: enroll.samples,
      enroll_cpu_s: enroll.cpu,
      exits_first_passes_ms: exits.firstPassesMs,
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
      materialize_samples_ms: materialize.samples,
      materialize_cpu_s: materialize.cpu,
      per_contact_workflows: PER_CONTACT,
      per_contact_workflow_ratio: round(workflows.plain.perContact.ms / workflows.plain.engine.ms),
      per_contact_workflow_realistic_ratio: round(workflows.realistic.perContact.ms / workflows.realistic.engine.ms),
      workflows_engine_s: round(workflows.plain.engine.ms / 1000),
      workflows_per_contact_s: round(workflows.plain.perContact.ms / 1000),
      workflows_engine_realistic_s: round(workflows.realistic.engine.ms / 1000),
      workflows_per_contact_realistic_s: round(workflows.realistic.perContact.ms / 1000),
      realistic_variants: workflows.variants,
      open_workflows: workflows.plain.engine.open,
      open_workflows_realistic: workflows.realistic.engine.open,
      per_contact_open_workflows: workflows.plain.perContact.open,
      load_avg_1m: round(loadavg()[0]),
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
    missed.push(...exitMisses(figures, exits));
    for (const kind of ['plain', 'realistic']) {
      const { engine } = workflows[kind];
      if (engine.open > 1) missed.push(`${engine.open} open workflows for one SOP (${kind})`);
    }
    if (!(figures.per_contact_workflow_ratio >= TARGET_PER_CONTACT_RATIO)) {
      missed.push(`one workflow per contact only ${figures.per_contact_workflow_ratio}x the dispatcher (plain) < ${TARGET_PER_CONTACT_RATIO}x`);
    }
    if (!(figures.per_contact_workflow_realistic_ratio >= TARGET_PER_CONTACT_RATIO)) {
      missed.push(`one workflow per contact only ${figures.per_contact_workflow_realistic_ratio}x the dispatcher (realistic) < ${TARGET_PER_CONTACT_RATIO}x`);
    }
    return { figures, missed };
  } finally {
    await db.destroy();
  }
}
