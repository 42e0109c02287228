#!/usr/bin/env node
// Postgres's own time for each query behind the dashboards bench's routes, from EXPLAIN (ANALYZE, BUFFERS) on the
// bench's database (less sensitive to a loaded machine than the HTTP p95s). Usage, after a run kept its database
// (`BENCH_KEEP_DB=1 npm run bench -- dashboards`, then Postgres started on .data/bench-postgres):
//   DATABASE_URL=postgres://…/bench_dashboards node bench/dashboards-explain.mjs [runs]
// Prints, per query, the median and the best execution time of `runs` (default 7) warm runs, and the rows and
// buffers of the last. The SQL is the API's (apps/api/src/modules/dashboards/dashboards.service.ts); "before"
// rows are the statements the API ran before the per-SOP-and-day rollup.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const pg = require('pg');
const { BUCKET_COLUMNS } = require(join(ROOT, 'libs/domain/dist'));

const RUNS = Number(process.argv[2] ?? 7);
const COLUMNS = ['created', 'pending', 'done', 'done_on_time', 'skipped', 'expired', 'cancelled', 'responded', 'converted', 'responses',
  'purchases', 'revenue', 'done_minutes', ...BUCKET_COLUMNS];
const SUMS = COLUMNS.map((c) => `coalesce(sum(r.${c}), 0)::float8 AS ${c}`).join(', ');

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const one = async (sql, params = []) => (await client.query(sql, params)).rows[0];
const { tenant, zone } = await one(`SELECT id AS tenant, timezone AS zone FROM tenants WHERE name = 'Dashboards bench 看板' ORDER BY created_at DESC LIMIT 1`);
const { manager, team } = await one(
  `SELECT u.id AS manager, t.id AS team FROM users u JOIN teams t ON t.manager_id = u.id WHERE u.tenant_id = $1 ORDER BY u.email LIMIT 1`, [tenant]);
const { sop } = await one(`SELECT id AS sop FROM sops WHERE tenant_id = $1 AND name = 'SOP 1 培育'`, [tenant]);
const { today } = await one(`SELECT (now() AT TIME ZONE $1)::date AS today`, [zone]);
const day = (d) => new Date(today.getTime() - d * 86400_000 + 12 * 3600_000).toISOString().slice(0, 10);
const ts = (d) => new Date(`${day(d)}T00:00:00+08:00`);

const queries = {
  'team: scope (teams the manager manages)': [`SELECT tn.timezone, ARRAY(SELECT id::text FROM teams WHERE tenant_id = $1 AND manager_id = $2 ORDER BY name, id) AS managed
     FROM tenants tn WHERE tn.id = $1`, [tenant, manager]],
  'team: cards (teams and members)': [`SELECT t.id, t.name, t.manager_id, (SELECT count(*)::int FROM users u WHERE u.team_id = t.id AND u.disabled_at IS NULL) AS members
     FROM teams t WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[]) ORDER BY t.name, t.id`, [tenant, [team]]],
  'team: 60 days of executor rollups by team and day': [`SELECT u.team_id, r.day::text AS day, ${SUMS}
     FROM users u JOIN task_rollups_executor r ON r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN $3::date AND $4::date
    WHERE u.tenant_id = $1 AND u.team_id = ANY($2::uuid[]) GROUP BY u.team_id, r.day`, [tenant, [team], day(59), day(0)]],
  'team: overdue now per member': [`SELECT u.id AS executor_id, u.team_id, o.day, o.n FROM users u CROSS JOIN LATERAL (
       SELECT (t.due_at AT TIME ZONE $3)::date::text AS day, count(*)::int AS n FROM tasks t
        WHERE t.tenant_id = $1 AND t.executor_id = u.id AND t.status = 'pending' AND t.due_until < now() GROUP BY 1) o
      WHERE u.tenant_id = $1 AND u.team_id = ANY($2::uuid[])`, [tenant, [team], zone]],
  'team: employees table (30 days)': [`SELECT u.id, u.name, u.role, u.team_id, tm.name AS team_name, ${SUMS}
     FROM users u LEFT JOIN teams tm ON tm.id = u.team_id
     LEFT JOIN task_rollups_executor r ON r.tenant_id = $1 AND r.executor_id = u.id AND r.day BETWEEN $3::date AND $4::date
    WHERE u.tenant_id = $1 AND u.team_id = ANY($2::uuid[])
    GROUP BY u.id, tm.name HAVING (u.role IN ('employee', 'manager') AND u.disabled_at IS NULL) OR count(r.day) > 0`, [tenant, [team], day(29), day(0)]],
  'tenant: SOP list, 90 days, before (SOP rollup by version, step, variant, channel)': [`WITH a AS (SELECT r.sop_id, ${SUMS} FROM task_rollups_sop r
      WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date GROUP BY r.sop_id)
     SELECT a.*, s.name, s.kind, s.status FROM a JOIN sops s ON s.id = a.sop_id`, [tenant, day(89), day(0)]],
  'tenant: SOP list, 90 days, after (rollup by SOP and day)': [`WITH a AS (SELECT r.sop_id, ${SUMS} FROM task_rollups_sop_day r
      WHERE r.tenant_id = $1 AND r.day BETWEEN $2::date AND $3::date GROUP BY r.sop_id)
     SELECT a.*, s.name, s.kind, s.status FROM a JOIN sops s ON s.id = a.sop_id`, [tenant, day(89), day(0)]],
  'tenant: overdue now per SOP': [`SELECT sop_id, count(*)::int AS now, count(*) FILTER (WHERE due_at >= $2 AND due_at < $3)::int AS cur
     FROM tasks WHERE tenant_id = $1 AND status = 'pending' AND due_until < now() GROUP BY sop_id`, [tenant, ts(89), ts(-1)]],
  "one SOP's page: 180 days of its rollups": [`SELECT r.step_index, r.variant, r.day::text AS day, ${SUMS} FROM task_rollups_sop r
      WHERE r.tenant_id = $1 AND r.sop_id = $2 AND r.day BETWEEN $3::date AND $4::date GROUP BY 1, 2, 3`, [tenant, sop, day(179), day(0)]],
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
for (const [name, [sql, params]] of Object.entries(queries)) {
  const times = [];
  let last;
  for (let i = 0; i < RUNS + 1; i++) {
    const [plan] = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params)).rows[0]['QUERY PLAN'];
    if (i > 0) times.push(plan['Execution Time'] + plan['Planning Time']); // the first run warms the cache
    last = plan;
  }
  const top = last.Plan;
  out[name] = { median_ms: Math.round(median(times) * 100) / 100, best_ms: Math.round(Math.min(...times) * 100) / 100, rows: top['Actual Rows'],
    shared_hit: top['Shared Hit Blocks'], shared_read: top['Shared Read Blocks'] };
  console.log(`${name}: median ${out[name].median_ms} ms, best ${out[name].best_ms} ms (${top['Actual Rows']} rows; buffers hit ${top['Shared Hit Blocks']}, read ${top['Shared Read Blocks']})`);
}
console.log(JSON.stringify({ bench: 'dashboards-explain', runs: RUNS, queries: out }));
await client.end();
