// Handover benchmark (issue 5, part 5). On a fresh database: a tenant with BENCH_CONTACTS contacts owned
// by one leaving employee (plus BENCH_OTHER_CONTACTS owned by others), 1,000 customer groups and one pending
// task per contact of theirs, 20 saved segments (three of them owner-based); then, through the real HTTP
// API, one handover of everything spread over a 10-person team, and the same request again.
// Targets: the handover of 100,000 contacts (with their groups, tasks, history rows and outbox events) within
// 10 s and within 2x plain UPDATEs of the same rows (timed in the same run); the repeat answers without moving
// anything. Since issue 14 the moved contacts' owner segments follow just after the commit, not inside the answer:
// reported apart (segments_followed_after_s, from the answer until the audit row's segments_pending is cleared).
// The floor (issue 14, "Honest baselines"): the same rows spread over the same team by the same hash as the
// handover, without EXPLAIN, warm (an untimed run first), each timed run from the same state as the handover
// (VACUUM ANALYZE and CHECKPOINT just before), rolled back.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { holdRecipients, moveGroups, moveTasks, ownersChanged, reassignContacts, rowChecksBack } = require(join(ROOT, 'libs/engine/dist'));
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { cpuMeter, postgresPids, postmasterOf, timed, waitFor } = await import(join(ROOT, 'bench/lib.mjs'));

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const OTHER_CONTACTS = Number(process.env.BENCH_OTHER_CONTACTS ?? 100_000);
const GROUPS = 1000;
const TEAM = 10;
/** The handover of 100,000 contacts over HTTP (issue 5's goal, checked again by issue 14). */
const TARGET_S = 10;
/** And relative to plain UPDATEs of the same rows over the same team (spread, history, outbox, segments on top). */
const TARGET_RAW_RATIO = 2;

const round = (x) => Math.round(x * 100) / 100;
async function seed(db, api, tenantId, log) {
  const [team] = await db.query(`INSERT INTO teams (tenant_id, name) VALUES ($1, 'Store 门店') RETURNING id`, [tenantId]);
  const members = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, team_id, password_hash)
     SELECT $1, 'handover-' || g || '@bench.example', '员工 ' || g, 'employee', $2, 'x' FROM generate_series(0, $3::int) g RETURNING id`,
    [tenantId, team.id, TEAM])).map((r) => r.id);
  const [leaver, ...others] = members; // the leaver is in the team too: the handover spreads over the other ten
  const [ms] = await timed(async () => {
    await db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes, order_count)
       SELECT $1, 'ext-' || g, '客户 ' || g, CASE WHEN g <= $3 THEN $2::uuid ELSE ($4::uuid[])[1 + g % $5] END,
              jsonb_build_object('city', (ARRAY['上海', '北京', '广州', '深圳'])[1 + g % 4]), g % 7
         FROM generate_series(1, $6::int) g`,
      [tenantId, leaver, CONTACTS, others, TEAM, CONTACTS + OTHER_CONTACTS]);
    await db.query(
      `INSERT INTO customer_groups (tenant_id, name, owner_id) SELECT $1, '群 ' || g, $2 FROM generate_series(1, $3::int) g`, [tenantId, leaver, GROUPS]);
    const [sop] = await db.query(
      `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version) VALUES ($1, 'Bench journey', 'journey', 'active', '{}', 1) RETURNING id`, [tenantId]);
    const [version] = await db.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition) VALUES ($1, $2, 1, '{}') RETURNING id`, [tenantId, sop.id]);
    await db.query(
      `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, due_at, due_until)
       SELECT $1, $2, $3, 0, row_number() OVER (), c.id, c.owner_id, 'wecom_chat', '您好', now() + interval '1 hour', now() + interval '3 hours'
         FROM contacts c WHERE c.tenant_id = $1 AND c.owner_id = $4`,
      [tenantId, sop.id, version.id, leaver]);
  });
  log(`Seeded ${CONTACTS + OTHER_CONTACTS} contacts (${CONTACTS} the leaver's), ${GROUPS} groups, ${CONTACTS} pending tasks in ${round(ms / 1000)} s`);
  // Statistics for the rows just written in bulk, as a tenant of this size has them: without them, whether saving the
  // team segment below passes the segment cost budget (422 SEGMENT_TOO_EXPENSIVE) depended on autovacuum's timing.
  await db.query('ANALYZE');
  // Saving a segment populates it (the API's own path): three follow owners, the rest look at other fields.
  const rules = [
    { owner: { users: [leaver] } }, { owner: { users: others.slice(0, 3) } }, { owner: { teams: [team.id] } },
    ...Array.from({ length: 17 }, (_, i) => (i % 2
      ? { metric: { name: 'orderCount', op: 'gte', value: i % 7 } }
      : { attribute: { key: 'city', op: 'eq', value: ['上海', '北京', '广州', '深圳'][i % 4] } })),
  ];
  const [segMs] = await timed(async () => {
    for (const [i, rule] of rules.entries()) {
      const res = await api('POST', '/api/segments', { name: `Bench segment ${i}`, rule });
      if (res.status !== 201) throw new Error(`segment ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  });
  log(`Saved and populated ${rules.length} segments in ${round(segMs / 1000)} s`);
  await db.query('VACUUM ANALYZE');
  return { leaver, team: team.id, others };
}

/** The handover's recipient for a row (libs/engine/src/handover.ts): the team, sorted, picked by the key's hashtext. */
const recipient = (key) => `($3::uuid[])[1 + mod(hashtext(${key})::bigint + 2147483648, cardinality($3::uuid[]))::int]`;
const FLOOR = [
  `UPDATE contacts c SET owner_id = ${recipient('c.id::text')}, updated_at = now() WHERE c.tenant_id = $1 AND c.owner_id = $2`,
  `UPDATE customer_groups g SET owner_id = ${recipient('g.id::text')}, updated_at = now() WHERE g.tenant_id = $1 AND g.owner_id = $2`,
  `UPDATE tasks t SET executor_id = ${recipient('coalesce(t.contact_id, t.group_id)::text')} WHERE t.tenant_id = $1 AND t.executor_id = $2 AND t.status = 'pending'`,
];

/**
 * The floor: the same rows moved by plain UPDATEs over the same team with the handover's spread (no history,
 * outbox or segments), in one transaction, rolled back; milliseconds. With `explain`, under EXPLAIN ANALYZE (whose
 * trigger lines show the foreign-key checks; plans to .data/bench-handover-plans.txt), for reading only: EXPLAIN's
 * per-row timing makes it slower than the statements alone.
 */
async function rawFloor(db, tenantId, leaver, team, explain = false) {
  const runner = db.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  const plans = [];
  const parts = [];
  try {
    const [{ pid }] = await runner.query('SELECT pg_backend_pid() AS pid');
    const cpu = cpuMeter(() => [pid]);
    const [ms] = await timed(async () => {
      for (const sql of FLOOR) {
        const [partMs, rows] = await timed(() => runner.query(`${explain ? 'EXPLAIN (ANALYZE, BUFFERS) ' : ''}${sql}`, [tenantId, leaver, team]));
        parts.push(round(partMs / 1000));
        if (explain) plans.push(`-- ${sql}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
      }
    });
    if (explain) writeFileSync(join(ROOT, '.data/bench-handover-plans.txt'), plans.join('\n'));
    return { ms, parts, cpuS: cpu.stop() };
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** The state both timed sides start from: dead rows of the rolled-back runs gone, statistics fresh, no dirty pages. */
async function settle(db) {
  await db.query('VACUUM ANALYZE contacts, customer_groups, tasks, segment_memberships, task_events, domain_events');
  await db.query('CHECKPOINT');
}

/**
 * Where the time goes: the set-based moves on their own, in a transaction rolled back afterwards, in the handover's
 * order and as it runs them (the recipients held, per-row foreign-key checks off when they may be: holdRecipients);
 * then the owner segments, which follow after the handover's commit (before issue 14's third pass they ran between
 * the contacts and the tasks here, and the tasks' figure counted the segments' leftovers too).
 */
async function breakdown(db, tenantId, leaver, others) {
  const runner = db.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const c = { tenantId, fromUserId: leaver, toUserIds: [...others].sort(), handoverId: randomUUID(), actorId: null };
    const trusted = await holdRecipients(runner, c);
    const [contactsMs, ids] = await timed(() => reassignContacts(runner, c));
    const [groupsMs] = await timed(() => moveGroups(runner, c));
    const [tasksMs] = await timed(() => moveTasks(runner, c));
    if (trusted) await rowChecksBack(runner);
    const [segmentsMs] = await timed(() => ownersChanged(runner, tenantId, ids));
    return { contactsMs, segmentsMs, groupsMs, tasksMs, trusted };
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'apps/api/dist/main.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: randomBytes(32).toString('hex'), TEMPORAL_ADDRESS: '127.0.0.1:1',
      LOG_LEVEL: process.env.BENCH_API_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', process.env.BENCH_API_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/health`);
    const signup = await (await fetch(`${base}/api/auth/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ organization: 'Bench', name: 'Bench', email: `bench-${randomBytes(4).toString('hex')}@bench.example`, password: 'bench-password' }),
    })).json();
    const headers = { authorization: `Bearer ${signup.accessToken}`, 'content-type': 'application/json' };
    const api = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, { method, headers, body: body && JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
    const me = (await api('GET', '/api/auth/me')).body;
    const { leaver, team, others } = await seed(db, api, me.tenantId, log);

    const members = [...others].sort(); // as the handover spreads: the team's active members but the leaver, by id
    // Warm-up, untimed: the floor once (with EXPLAIN ANALYZE under BENCH_EXPLAIN=1), and the handover's moves
    // (timed on their own: the breakdown), both rolled back.
    const { ms: warmMs } = await rawFloor(db, me.tenantId, leaver, members, process.env.BENCH_EXPLAIN === '1');
    await settle(db);
    const parts = await breakdown(db, me.tenantId, leaver, others);
    log(`warm-up: the floor ${round(warmMs / 1000)} s${process.env.BENCH_EXPLAIN === '1' ? ' (under EXPLAIN ANALYZE; plans in .data/bench-handover-plans.txt)' : ''}; `
      + `breakdown (rolled back): contacts with outbox ${round(parts.contactsMs / 1000)} s, computed tags and segments ${round(parts.segmentsMs / 1000)} s, `
      + `groups ${round(parts.groupsMs / 1000)} s, tasks with history ${round(parts.tasksMs / 1000)} s`
      + `${parts.trusted ? ' (per-row foreign-key checks off for the moves)' : ' (per-row foreign-key checks on: this role may not turn them off)'}`);
    await settle(db);
    const floor = await rawFloor(db, me.tenantId, leaver, members);
    const rawMs = floor.ms;
    log(`floor (plain UPDATEs of the same rows over the same ${members.length} members, warm, rolled back): ${round(rawMs / 1000)} s `
      + `(contacts, groups, tasks: ${floor.parts.join(', ')} s), ${floor.cpuS} s of CPU in its Postgres backend`);
    await settle(db);
    const [{ pid: anyBackend }] = await db.query('SELECT pg_backend_pid() AS pid');
    const postmaster = postmasterOf(anyBackend);
    const handoverCpu = cpuMeter(() => [child.pid, ...postgresPids(postmaster)]);

    const id = randomUUID();
    const request = { id, fromUserId: leaver, toTeamId: team, reason: 'Bench 交接' };
    const [handoverMs, first] = await timed(() => api('POST', '/api/handovers', request));
    const answeredAt = Date.now();
    const handoverCpuS = handoverCpu.stop();
    if (first.status !== 201) throw new Error(`handover: ${first.status} ${JSON.stringify(first.body)}`);
    const [repeatMs, repeat] = await timed(() => api('POST', '/api/handovers', request));
    // The moved contacts' owner segments and computed tags follow just after the commit (the API starts that without
    // waiting): how long after the answer they were done (the audit row's segments_pending cleared).
    while ((await db.query(`SELECT segments_pending FROM handovers WHERE id = $1`, [id]))[0].segments_pending) {
      if (Date.now() > answeredAt + 600_000) throw new Error('owner segments not followed within 10 minutes of the answer');
      await new Promise((r) => setTimeout(r, 100));
    }
    const followedAfterS = round((Date.now() - answeredAt) / 1000);
    log(`handover over HTTP: ${JSON.stringify(first.body.moved)} in ${round(handoverMs / 1000)} s `
      + `(${handoverCpuS} s of CPU in the API and Postgres meanwhile); repeat ${repeat.status} in ${round(repeatMs)} ms; `
      + `owner segments followed ${followedAfterS} s after the answer`);

    const [check] = await db.query(
      `SELECT (SELECT count(*)::int FROM contacts WHERE tenant_id = $1 AND owner_id = $2) AS left_with_leaver,
              (SELECT count(*)::int FROM task_events WHERE detail->>'handoverId' = $3) AS history_rows,
              (SELECT count(*)::int FROM domain_events WHERE type = 'contact.updated' AND payload->>'handoverId' = $3) AS outbox_events`,
      [me.tenantId, leaver, id]);
    // the members' shares of the moved contacts: the smallest and the largest
    const shares = await db.query(
      `SELECT t.executor_id, count(*)::int AS n FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE e.detail->>'handoverId' = $1 GROUP BY 1 ORDER BY 2`, [id]);
    const figures = {
      bench: 'handover', contacts: first.body.moved.contacts, groups: first.body.moved.groups, tasks: first.body.moved.tasks,
      raw_update_s: round(rawMs / 1000), raw_update_warmup_s: round(warmMs / 1000), raw_update_parts_s: floor.parts, raw_update_cpu_s: floor.cpuS, handover_cpu_s: handoverCpuS, handover_vs_raw_ratio: round(handoverMs / rawMs), team_members: others.length, other_contacts: OTHER_CONTACTS, segments: 20, handover_s: round(handoverMs / 1000), repeat_ms: round(repeatMs),
      breakdown_contacts_s: round(parts.contactsMs / 1000), breakdown_segments_s: round(parts.segmentsMs / 1000), breakdown_groups_s: round(parts.groupsMs / 1000), breakdown_tasks_s: round(parts.tasksMs / 1000), row_checks_off: parts.trusted,
      segments_followed_after_s: followedAfterS, history_rows: check.history_rows, load_avg_1m: round(loadavg()[0]), outbox_events: check.outbox_events, share_min: shares[0]?.n, share_max: shares[shares.length - 1]?.n,
    };
    const missed = [];
    if (handoverMs > TARGET_S * 1000) missed.push(`handover ${round(handoverMs / 1000)} s > ${TARGET_S} s`);
    if (handoverMs / rawMs > TARGET_RAW_RATIO) missed.push(`handover ${round(handoverMs / rawMs)}x the raw UPDATEs > ${TARGET_RAW_RATIO}x`);
    if (check.left_with_leaver !== 0 || first.body.moved.contacts !== CONTACTS || first.body.moved.tasks !== CONTACTS) missed.push('not everything moved');
    if (repeat.status !== 200 || JSON.stringify(repeat.body) !== JSON.stringify(first.body)) missed.push('the repeat did not answer the first result');
    if (check.history_rows !== CONTACTS) missed.push(`history rows ${check.history_rows} != ${CONTACTS}`);
    return { figures, missed };
  } finally {
    child.kill('SIGTERM');
    await db.destroy();
  }
}
