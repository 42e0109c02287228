// Dashboards benchmark (issue 13). On a fresh database:
// - BENCH_TASKS tasks (default 5,000,000) for 2,000 employees in 100 teams (a manager each) and 200 SOPs over
//   about 400 days, a fifth of the done ones with a response (some purchases), all written by set-based
//   INSERT ... SELECT through the rollup triggers, as the engine's writes are;
// - 50 managers at once opening their team dashboard for 30 days (cards and the employees table) through the
//   real API in its own process, each pausing about a second between two requests (BENCH_THINK_MS): p95;
// - an ops user opening the tenant-wide SOP results for 90 days (and one SOP's page): p95;
// - the same 100,000-task materialization (the engine's pages) with the rollup triggers off and on, in
//   BENCH_OVERHEAD_ROUNDS rounds (default 3) of one each, back to back: the median of the rounds' ratios (a pair
//   run back to back meets about the same load from the rest of the machine; best-of times of unpaired runs did not);
// - the rollups against a recount from the raw rows: any difference fails the bench.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const jwt = require('jsonwebtoken');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { compareRollups, enrollEntrants, materializeDuePage } = require(join(ROOT, 'libs/engine/dist'));
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { p95, startApi, timed, waitFor } = await import(join(ROOT, 'bench/lib.mjs'));

const TASKS = Number(process.env.BENCH_TASKS ?? 5_000_000);
const EMPLOYEES = Number(process.env.BENCH_EMPLOYEES ?? 2000);
const TEAMS = Number(process.env.BENCH_TEAMS ?? 100);
const SOPS = Number(process.env.BENCH_SOPS ?? 200);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 200_000);
const MANAGERS = Number(process.env.BENCH_MANAGERS ?? 50);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 1000);
const TENANT_REQUESTS = Number(process.env.BENCH_TENANT_REQUESTS ?? 40);
const MATERIALIZE = Number(process.env.BENCH_MATERIALIZE ?? 100_000);
const PAGE = Number(process.env.BENCH_PAGE ?? 2000);
const PARALLEL = Number(process.env.BENCH_PARALLEL_PAGES ?? 2);
const OVERHEAD_ROUNDS = Number(process.env.BENCH_OVERHEAD_ROUNDS ?? 3);
const DAYS = 410;
const TARGETS = { team_p95_ms: 100, tenant_p95_ms: 300, rollup_overhead_ratio: 1.1 };
const CHANNELS = ['wecom_chat', 'group_chat', 'moments', 'sms', 'phone_call'];

const round = (x) => Math.round(x * 100) / 100;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Names this run's segment and SOPs apart from an earlier run's on a kept database. */
const RUN = new Date().toISOString().slice(0, 19);

function journey(segmentId, { variants = false, steps = 3 } = {}) {
  return {
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: true, reentry: 'never' },
    steps: Array.from({ length: steps }, (_, i) => ({
      name: `第 ${i + 1} 步 Step ${i + 1}`, offsetDays: i * 3, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: '{{ contact.name }}，您好！新品 Product B 到了。', materials: [],
        ...(variants ? { variants: [{ name: 'A', weight: 1, template: 'A：{{ contact.name }}，您好！' }, { name: 'B', weight: 1, template: 'B：{{ contact.name }}，新品到了！' }] } : {}) },
      executor: { rule: 'contactOwner' }, reminder: { mandatory: false },
    })),
    policies: { businessDaysOnly: false, priority: 50, overflow: 'defer', exitOn: [], onFinish: { addTagIds: [], removeTagIds: [] } },
  };
}

/** With BENCH_KEEP_DB=1: the world a previous run seeded at the same size, if there is one (seeding 5,000,000 tasks takes ~20 min). */
async function seeded(db) {
  const [t] = await db.query(
    `SELECT t.id FROM tenants t WHERE t.name = 'Dashboards bench 看板' AND (SELECT count(*) FROM tasks WHERE tenant_id = t.id AND sop_id IN (
       SELECT id FROM sops WHERE tenant_id = t.id AND name LIKE 'SOP %')) = $1 ORDER BY t.created_at DESC LIMIT 1`, [TASKS]);
  if (!t) return null;
  const ids = async (sql) => (await db.query(sql, [t.id])).map((r) => r.id);
  return {
    tenantId: t.id,
    teams: await ids(`SELECT id FROM teams WHERE tenant_id = $1 ORDER BY created_at, name`),
    managers: await ids(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'manager' ORDER BY length(email), email`),
    employees: await ids(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'employee' ORDER BY length(email), email`),
    ops: (await ids(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'ops'`))[0],
    sops: (await ids(`SELECT id FROM sops WHERE tenant_id = $1 AND name LIKE 'SOP %' ORDER BY length(name), name`)).map((id) => ({ id })),
    segmentId: (await ids(`SELECT id FROM segments WHERE tenant_id = $1 AND name = 'Bench audience'`))[0],
  };
}

async function seed(db, log) {
  const kept = process.env.BENCH_KEEP_DB ? await seeded(db) : null;
  if (kept) {
    log(`Reusing the tasks of tenant ${kept.tenantId} seeded by an earlier run (BENCH_KEEP_DB)`);
    return kept;
  }
  const [{ id: tenantId }] = await db.query(`INSERT INTO tenants (name) VALUES ('Dashboards bench 看板') RETURNING id`);
  const teams = (await db.query(
    `INSERT INTO teams (tenant_id, name) SELECT $1, '门店 ' || g FROM generate_series(1, $2::int) g RETURNING id`, [tenantId, TEAMS])).map((r) => r.id);
  const managers = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash, team_id)
     SELECT $1, 'dash-mgr-' || g || '@bench.example', '经理 ' || g, 'manager', 'x', ($2::uuid[])[g] FROM generate_series(1, $3::int) g RETURNING id`,
    [tenantId, teams, TEAMS])).map((r) => r.id);
  await db.query(`UPDATE teams t SET manager_id = m.id FROM unnest($1::uuid[], $2::uuid[]) AS m(team, id) WHERE t.id = m.team`, [teams, managers]);
  const employees = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash, team_id)
     SELECT $1, 'dash-emp-' || g || '@bench.example', '员工 ' || g, 'employee', 'x', ($2::uuid[])[1 + g % $3::int]
       FROM generate_series(1, $4::int) g RETURNING id`,
    [tenantId, teams, TEAMS, EMPLOYEES])).map((r) => r.id);
  const [{ id: ops }] = await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash) VALUES ($1, 'dash-ops@bench.example', '运营', 'ops', 'x') RETURNING id`, [tenantId]);
  await db.query(
    `INSERT INTO contacts (tenant_id, external_id, name, owner_id)
     SELECT $1, 'c-' || g, '客户 ' || g, ($2::uuid[])[1 + g % $3::int] FROM generate_series(1, $4::int) g`,
    [tenantId, employees, EMPLOYEES, CONTACTS]);
  const [{ id: segmentId }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, 'Bench audience', '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId]);
  // SOPs with history, archived: no dispatcher runs for them; every other one has variants A/B on each step
  const sops = [];
  for (let i = 0; i < SOPS; i++) {
    const def = journey(segmentId, { variants: i % 2 === 0 });
    const [{ id }] = await db.query(
      `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids) VALUES ($1, $2, 'journey', 'archived', $3, 1, $4) RETURNING id`,
      [tenantId, `SOP ${i + 1} 培育`, def, [segmentId]]);
    const [{ id: versionId }] = await db.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4) RETURNING id`,
      [tenantId, id, def, [segmentId]]);
    sops.push({ id, versionId });
  }
  const contactIds = (await db.query(`SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY external_id`, [tenantId])).map((r) => r.id);

  // Task g: employee g % EMPLOYEES's k-th (k = g / EMPLOYEES), on SOP (employee * 7 + k) % SOPS; due days from ~400 days ago to 10 ahead.
  // Closed windows: mostly done (some late), some skipped, expired, cancelled; the last day's closed windows partly still pending (overdue).
  const CHUNK = 250_000;
  let seedMs = 0;
  for (let from = 1; from <= TASKS; from += CHUNK) {
    const to = Math.min(TASKS, from + CHUNK - 1);
    const [ms] = await timed(() => db.query(
      `WITH g AS (
         SELECT g, k, e, s, date_trunc('day', now()) - interval '${DAYS - 10} days' + (k % ${DAYS}) * interval '1 day' + (g % 10) * interval '1 hour' AS due_at
           FROM generate_series($4::int, $5::int) g, LATERAL (SELECT g / $3::int AS k, g % $3::int AS e) ke,
                LATERAL (SELECT (e * 7 + k) % $8::int AS s) s)
       INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, variant,
                          due_at, due_until, status, outcome, finished_at)
       SELECT $1, ($6::uuid[])[1 + s], ($7::uuid[])[1 + s], k % 3, -g, ($2::uuid[])[1 + g % array_length($2::uuid[], 1)], ($9::uuid[])[1 + e],
              (ARRAY['${CHANNELS.join("','")}'])[1 + s % ${CHANNELS.length}], '您好，新品 Product B 到了。',
              CASE WHEN s % 2 = 0 THEN (ARRAY['A', 'B'])[1 + g % 2] END,
              due_at, due_at + interval '3 hours', st.status, CASE WHEN st.status = 'done' THEN 'sent' END,
              CASE st.status WHEN 'pending' THEN NULL WHEN 'expired' THEN due_at + interval '27 hours' ELSE due_at + (g % 7) * interval '40 minutes' END
         FROM g, LATERAL (SELECT CASE WHEN due_at + interval '3 hours' >= now() THEN 'pending'
                                      WHEN due_at + interval '27 hours' >= now() AND g % 4 = 0 THEN 'pending'
                                      WHEN g % 20 = 1 THEN 'skipped' WHEN g % 20 = 2 THEN 'expired' WHEN g % 33 = 3 THEN 'cancelled'
                                      ELSE 'done' END AS status) st`,
      [tenantId, contactIds, EMPLOYEES, from, to, sops.map((x) => x.id), sops.map((x) => x.versionId), SOPS, employees]));
    seedMs += ms;
    log(`tasks ${to.toLocaleString('en')} / ${TASKS.toLocaleString('en')} (${round(ms / 1000)} s for this chunk, rollups kept by the triggers)`);
  }
  // A fifth of the done tasks get a reply an hour later, one in 25 a purchase: the triggers count them on the tasks, then the rollups.
  const [{ max }] = await db.query(`SELECT max(id)::bigint AS max FROM tasks WHERE tenant_id = $1`, [tenantId]);
  for (let from = 0; from <= Number(max); from += CHUNK * 2) {
    const [ms] = await timed(() => db.query(
      `INSERT INTO responses (tenant_id, contact_id, kind, source, amount, occurred_at, attributed_task_id)
       SELECT t.tenant_id, t.contact_id, r.kind, 'event', r.amount, t.finished_at + interval '1 hour', t.id
         FROM tasks t, LATERAL (VALUES ('replied', NULL::numeric), ('bought', 100 + t.id % 400)) AS r(kind, amount)
        WHERE t.tenant_id = $1 AND t.id > $2 AND t.id <= $3 AND t.status = 'done' AND t.id % 5 = 0 AND (r.kind = 'replied' OR t.id % 25 = 0)`,
      [tenantId, from, from + CHUNK * 2]));
    seedMs += ms;
  }
  log(`responses seeded; seeding took ${round(seedMs / 1000)} s in all`);
  await db.query('VACUUM ANALYZE tasks');
  await db.query('VACUUM ANALYZE responses');
  await db.query('VACUUM ANALYZE task_rollups_executor');
  await db.query('VACUUM ANALYZE task_rollups_sop');
  return { tenantId, teams, managers, employees, ops, sops, segmentId };
}

/** MANAGERS managers at once, each opening their dashboard (cards, then the employees table) over and over with a pause between two. */
async function loadManagers(base, tokens, log, { thinkMs = THINK_MS, seconds = LOAD_SECONDS } = {}) {
  const latencies = { teams: [], employees: [] };
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const paths = { teams: '/api/dashboards/teams', employees: '/api/dashboards/employees' };
  const get = async (token, what) => {
    const t = performance.now();
    const res = await fetch(`${base}${paths[what]}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json();
    if (!res.ok || !body.range) errors++;
    return performance.now() - t;
  };
  for (const token of tokens) for (const what of Object.keys(paths)) await get(token, what); // warm: each manager opened it once
  await Promise.all(tokens.map(async (token) => {
    if (thinkMs) await new Promise((r) => setTimeout(r, Math.random() * thinkMs));
    for (let i = 0; Date.now() < until; i++) {
      const what = i % 2 ? 'employees' : 'teams';
      latencies[what].push(await get(token, what));
      if (thinkMs) await new Promise((r) => setTimeout(r, thinkMs * (0.5 + Math.random())));
    }
  }));
  const out = { teams: round(p95(latencies.teams)), employees: round(p95(latencies.employees)), requests: latencies.teams.length + latencies.employees.length, errors };
  log(`managers: ${out.requests} requests in ${seconds} s from ${tokens.length} managers thinking ${thinkMs} ms (${errors} errors); p95 cards ${out.teams} ms, employees ${out.employees} ms`);
  return out;
}

/** The ops user's tenant-wide SOP results for 90 days, one request after another; and one SOP's page. */
async function loadTenant(base, token, sopId, log) {
  const headers = { authorization: `Bearer ${token}` };
  const today = new Date();
  const day = (d) => new Date(today.getTime() - d * 86400_000).toISOString().slice(0, 10);
  const query = `from=${day(89)}&to=${day(0)}`;
  const list = [];
  const one = [];
  let errors = 0;
  for (let i = 0; i < TENANT_REQUESTS + 3; i++) {
    for (const [path, into] of [[`/api/dashboards/sops?${query}`, list], [`/api/dashboards/sops/${sopId}?${query}`, one]]) {
      const t = performance.now();
      const res = await fetch(`${base}${path}`, { headers });
      const body = await res.json();
      if (!res.ok || !body.range) errors++;
      if (i >= 3) into.push(performance.now() - t); // three to warm up
    }
  }
  const out = { list: round(p95(list)), one: round(p95(one)), errors };
  log(`ops: SOP results for 90 days, p95 ${out.list} ms for the tenant-wide list, ${out.one} ms for one SOP's page (${errors} errors)`);
  return out;
}

// the rollups' upkeep: the three statement triggers and the per-tenant lock (taken by a row trigger, once per transaction)
const TRIGGERS = ['tasks_rollup_insert', 'tasks_rollup_update', 'tasks_rollup_delete', 'lock_tenant_rollups', 'lock_tenant_rollups_delete'];
const triggers = (db, on) => db.query(TRIGGERS.map((t) => `ALTER TABLE tasks ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`).join('; '));

/** One 100,000-task materialization through the engine's pages, on a SOP of its own; the tasks are removed after (without rollups: unseen by them). */
async function materializeOnce(db, tenantId, segmentId, name, withRollups) {
  const def = journey(segmentId, { variants: true, steps: 1 });
  const [{ id }] = await db.query(
    `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids) VALUES ($1, $2, 'journey', 'active', $3, 1, $4) RETURNING id`,
    [tenantId, name, def, [segmentId]]);
  await db.query(`INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4)`, [tenantId, id, def, [segmentId]]);
  await enrollEntrants(db, id, new Date(Date.now() - 60_000));
  await db.query('VACUUM ANALYZE enrollments');
  await db.query('CHECKPOINT');
  if (!withRollups) await triggers(db, false);
  let tasks = 0;
  try {
    const [ms] = await timed(() => Promise.all(Array.from({ length: PARALLEL }, async () => {
      for (let more = true; more;) {
        const page = await materializeDuePage(db, id, new Date(), PAGE);
        tasks += page.tasks;
        more = page.more;
      }
    })));
    // take them away again as they came: without the triggers when they were made without
    await db.query(`DELETE FROM tasks WHERE sop_id = $1`, [id]);
    await db.query(`UPDATE sops SET status = 'archived' WHERE id = $1`, [id]);
    return { ms, tasks };
  } finally {
    if (!withRollups) await triggers(db, true);
  }
}

async function benchOverhead(db, tenantId, log) {
  const [{ id: segmentId }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, $2, '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId, `Materialize ${RUN}`]);
  await db.query(
    `INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at)
     SELECT $1, $2, id, now() - interval '1 hour' FROM contacts WHERE tenant_id = $1 ORDER BY external_id LIMIT $3`,
    [tenantId, segmentId, MATERIALIZE]);
  // statistics that know this segment: on a kept database, a plan that thinks it empty walked every run's memberships
  await db.query('ANALYZE segment_memberships');
  // BENCH_ONE_EXECUTOR=1: every task to one employee on one day, so every page's rollup upsert meets the same row
  if (process.env.BENCH_ONE_EXECUTOR) {
    await db.query(
      `UPDATE contacts SET owner_id = (SELECT owner_id FROM contacts WHERE tenant_id = $1 ORDER BY external_id LIMIT 1)
        WHERE id IN (SELECT contact_id FROM segment_memberships WHERE segment_id = $2)`, [tenantId, segmentId]);
  }
  const runs = { without: [], with: [] };
  for (let round_ = 1; round_ <= OVERHEAD_ROUNDS; round_++) {
    for (const withRollups of [false, true]) {
      const { ms, tasks } = await materializeOnce(db, tenantId, segmentId, `Materialize ${RUN} ${round_} ${withRollups ? 'with' : 'without'}`, withRollups);
      if (tasks !== MATERIALIZE) throw new Error(`materialized ${tasks} tasks, not ${MATERIALIZE}`);
      runs[withRollups ? 'with' : 'without'].push(ms);
      log(`materialize ${tasks} tasks ${withRollups ? 'with' : 'without'} rollups: ${round(ms / 1000)} s`);
    }
  }
  const ratios = runs.with.map((ms, i) => ms / runs.without[i]);
  const best = { without: Math.min(...runs.without), with: Math.min(...runs.with) };
  log(`rollup upkeep: ratios per round ${ratios.map(round).join(', ')}; best times ${round(best.with / best.without)}`);
  return { ratio: round(median(ratios)), bestRatio: round(best.with / best.without), withS: round(best.with / 1000), withoutS: round(best.without / 1000), runs };
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  let api;
  try {
    log(`Seeding ${TASKS.toLocaleString('en')} tasks for ${EMPLOYEES} employees in ${TEAMS} teams, ${SOPS} SOPs…`);
    const [seedMs, world] = await timed(() => seed(db, log));
    const { tenantId, managers, ops, sops } = world;
    const [{ n, responses, rows_executor: rowsExecutor, rows_sop: rowsSop }] = await db.query(
      `SELECT (SELECT count(*)::int FROM tasks WHERE tenant_id = $1) AS n, (SELECT count(*)::int FROM responses WHERE tenant_id = $1) AS responses,
              (SELECT count(*)::int FROM task_rollups_executor WHERE tenant_id = $1) AS rows_executor,
              (SELECT count(*)::int FROM task_rollups_sop WHERE tenant_id = $1) AS rows_sop`, [tenantId]);
    log(`${n} tasks, ${responses} responses; rollup rows: ${rowsExecutor} by executor and day, ${rowsSop} by SOP step variant channel and day`);

    api = startApi({ DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: secret, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const sign = (id, role) => jwt.sign({ sub: id, tid: tenantId, role }, secret, { expiresIn: '1h' });
    const team = await loadManagers(base, managers.slice(0, MANAGERS).map((id) => sign(id, 'manager')), log);
    const saturated = await loadManagers(base, managers.slice(0, MANAGERS).map((id) => sign(id, 'manager')), log, { thinkMs: 0, seconds: 10 });
    const tenant = await loadTenant(base, sign(ops, 'ops'), sops[0].id, log);
    api.kill('SIGTERM');
    api = undefined;

    const overhead = await benchOverhead(db, tenantId, log);
    const [checkMs, differences] = await timed(() => compareRollups(db, tenantId));
    log(`rollups against the recount: ${differences.length ? `${differences.length} rows differ, e.g. ${JSON.stringify(differences[0])}` : 'equal'} (${round(checkMs / 1000)} s)`);

    const figures = {
      bench: 'dashboards', tasks: n, team_p95_ms: team.teams, tenant_p95_ms: tenant.list, rollup_overhead_ratio: overhead.ratio,
      rollups_match: differences.length === 0,
      employees_p95_ms: team.employees, managers: MANAGERS, think_ms: THINK_MS, team_requests: team.requests,
      team_saturated_p95_ms: Math.max(saturated.teams, saturated.employees), team_saturated_requests_per_s: round(saturated.requests / 10),
      sop_page_p95_ms: tenant.one, materialize_tasks: MATERIALIZE, rollup_overhead_best_ratio: overhead.bestRatio, materialize_with_rollups_s: overhead.withS, materialize_without_rollups_s: overhead.withoutS,
      responses, rollup_rows_executor: rowsExecutor, rollup_rows_sop: rowsSop, seed_s: round(seedMs / 1000), recount_s: round(checkMs / 1000),
    };
    const missed = [];
    for (const [key, target] of Object.entries(TARGETS)) if (!(figures[key] <= target)) missed.push(`${key} ${figures[key]} > ${target}`);
    if (!figures.rollups_match) missed.push('rollups differ from the recount');
    if (team.errors + saturated.errors + tenant.errors) missed.push(`${team.errors + saturated.errors + tenant.errors} requests failed`);
    return { figures, missed };
  } finally {
    api?.kill('SIGTERM');
    await db.destroy();
  }
}
