/**
 * Task rollups (docs/dashboards.md): the triggers of migration Dashboards1765238400000 keep
 * `task_rollups_executor` (tenant, executor, day) and `task_rollups_sop` (tenant, day, SOP, version, step,
 * variant, channel) in the same statement as every change of a task. This file is their independent check
 * and their rebuild: a recount from the raw rows (tasks, and responses by the task they are attributed to),
 * written separately from the triggers on purpose, so that a test comparing the two means something.
 */
import { BUCKET_COLUMNS, DONE_MINUTE_BOUNDS } from '@sop/domain';
import type { Queryable } from './queryable';

const COUNTER_COLUMNS = ['created', 'pending', 'done', 'done_on_time', 'skipped', 'expired', 'cancelled', 'responded', 'converted',
  'responses', 'purchases', 'revenue', 'done_minutes', ...BUCKET_COLUMNS];

export const ROLLUP_TABLES = {
  executor: { table: 'task_rollups_executor', key: ['executor_id', 'day'] },
  sop: { table: 'task_rollups_sop', key: ['day', 'sop_id', 'sop_version_id', 'step_index', 'variant', 'channel'] },
  sopDay: { table: 'task_rollups_sop_day', key: ['sop_id', 'day'] },
} as const;
type RollupKind = keyof typeof ROLLUP_TABLES;

/** The rollup rows of one tenant recounted from raw rows: `SELECT <key>, <counters>` as SQL over $1 = tenant. */
function recountSql(kind: RollupKind): string {
  const { key } = ROLLUP_TABLES[kind];
  const bucket = `width_bucket(greatest(0, extract(epoch FROM t.finished_at - t.due_at) / 60), ARRAY[${DONE_MINUTE_BOUNDS.join(', ')}]::float8[])`;
  return `
    WITH att AS (
      SELECT attributed_task_id AS id, count(*)::int AS n, count(*) FILTER (WHERE kind = 'bought')::int AS p,
             coalesce(sum(amount) FILTER (WHERE kind = 'bought'), 0) AS a
        FROM responses WHERE tenant_id = $1 AND attributed_task_id IS NOT NULL GROUP BY 1
    ), t AS (
      SELECT t.*, (t.due_at AT TIME ZONE tn.timezone)::date AS day, coalesce(att.n, 0) AS rn, coalesce(att.p, 0) AS rp, coalesce(att.a, 0) AS ra
        FROM tasks t JOIN tenants tn ON tn.id = t.tenant_id LEFT JOIN att ON att.id = t.id
       WHERE t.tenant_id = $1
    )
    SELECT ${key.map((c) => `t.${c}`).join(', ')},
           count(*)::int AS created, count(*) FILTER (WHERE status = 'pending')::int AS pending,
           count(*) FILTER (WHERE status = 'done')::int AS done,
           count(*) FILTER (WHERE status = 'done' AND finished_at <= due_until)::int AS done_on_time,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped, count(*) FILTER (WHERE status = 'expired')::int AS expired,
           count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
           count(*) FILTER (WHERE rn > 0)::int AS responded, count(*) FILTER (WHERE rp > 0)::int AS converted,
           sum(rn)::int AS responses, sum(rp)::int AS purchases, sum(ra)::numeric(16, 2) AS revenue,
           coalesce(sum(greatest(0, floor(extract(epoch FROM finished_at - due_at) / 60))) FILTER (WHERE status = 'done'), 0)::bigint AS done_minutes,
           ${BUCKET_COLUMNS.map((c, i) => `count(*) FILTER (WHERE status = 'done' AND ${bucket} = ${i})::int AS ${c}`).join(',\n           ')}
      FROM t GROUP BY ${key.map((c) => `t.${c}`).join(', ')}`;
}

export interface RollupDifference {
  table: string;
  key: Record<string, unknown>;
  kept: Record<string, string> | null;
  recounted: Record<string, string> | null;
}

/** Rollup rows (all-zero rows aside) that differ from the recount, for one tenant; empty when they agree. */
export async function compareRollups(db: Queryable, tenantId: string, limit = 20): Promise<RollupDifference[]> {
  const out: RollupDifference[] = [];
  for (const kind of Object.keys(ROLLUP_TABLES) as RollupKind[]) {
    const { table, key } = ROLLUP_TABLES[kind];
    const values = (alias: string) => `jsonb_build_object(${COUNTER_COLUMNS.map((c) => `'${c}', ${alias}.${c}::text`).join(', ')})`;
    const nonZero = COUNTER_COLUMNS.map((c) => `k.${c} <> 0`).join(' OR ');
    const rows = await db.query(
      `WITH k AS (SELECT k.*, jsonb_build_array(${key.map((c) => `k.${c}`).join(', ')}) AS kk FROM ${table} k WHERE tenant_id = $1 AND (${nonZero})),
            r AS (SELECT r.*, jsonb_build_array(${key.map((c) => `r.${c}`).join(', ')}) AS kk FROM (${recountSql(kind)}) r)
       SELECT jsonb_build_object(${key.map((c) => `'${c}', coalesce(k.${c}, r.${c})`).join(', ')}) AS key,
              CASE WHEN k.tenant_id IS NULL THEN NULL ELSE ${values('k')} END AS kept,
              CASE WHEN r.created IS NULL THEN NULL ELSE ${values('r')} END AS recounted
         FROM k FULL JOIN r ON k.kk = r.kk
        WHERE k.tenant_id IS NULL OR r.created IS NULL OR (${COUNTER_COLUMNS.map((c) => `k.${c}`).join(', ')}) IS DISTINCT FROM
              (${COUNTER_COLUMNS.map((c) => `r.${c}`).join(', ')})
        LIMIT ${limit}`,
      [tenantId],
    );
    out.push(...rows.map((r: Omit<RollupDifference, 'table'>) => ({ table, ...r })));
  }
  return out;
}

/** Responses that count for a task (docs/dashboards.md); the same rule as the attribution trigger. */
const COUNTS_AS_RESPONSE = `(r.kind IN ('replied', 'opened', 'bought', 'custom', 'joined_group')
  OR (r.kind = 'outcome' AND r.outcome IN ('replied', 'interested', 'not_interested', 'bought')))`;

export interface RebuildProgress {
  tenant: number;
  tenants: number;
  tenantId: string;
  rows: number;
  ms: number;
}

/** The class (first key) of the per-tenant advisory locks of migration RollupsPerSopAndTenantLocks1765600000000. */
const TENANT_LOCK_CLASS = 386229;

/**
 * Takes the tenant's rollup lock exclusively for the transaction: every writer of that tenant's tasks or
 * responses takes it in shared mode (a row trigger, before its row is written), so they wait for us and we
 * for them; other tenants' writers never meet it. `nowait`: false at once when a writer holds it.
 */
export async function lockTenantRollups(m: Queryable, tenantId: string, nowait = false): Promise<boolean> {
  if (!nowait) {
    await m.query(`SELECT pg_advisory_xact_lock($1, hashtext($2::text))`, [TENANT_LOCK_CLASS, tenantId]);
    return true;
  }
  const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock($1, hashtext($2::text)) AS locked`, [TENANT_LOCK_CLASS, tenantId]);
  return locked;
}

/** Thrown by a `nowait` rebuild when the tenant's tasks or responses are being written at that moment. */
export class RollupRebuildBusy extends Error {
  constructor(readonly tenantId: string) {
    super(`The tasks or responses of tenant ${tenantId} are being written right now; try the rebuild again in a moment.`);
  }
}

/**
 * Rebuilds the rollups from raw rows, one tenant per transaction: responses are attributed again (the latest
 * done task of the contact before each, within the tenant's current window), tasks' response figures
 * follow, and the tenant's rollup rows are replaced by the recount. The tenant's rollup lock (above) makes
 * that tenant's task and response writers wait for the transaction, so nothing is counted twice or lost;
 * other tenants' writers go on.
 */
export async function rebuildRollups(
  db: { transaction<T>(run: (m: Queryable) => Promise<T>): Promise<T>; query: Queryable['query'] },
  options: {
    tenantIds?: string[]; onProgress?: (p: RebuildProgress) => void; nowait?: boolean;
    /** runs in each tenant's transaction once its lock is held, before the recount (a settings change it reflects) */
    first?: (m: Queryable, tenantId: string) => Promise<unknown>;
  } = {},
): Promise<{ tenants: number; rows: number }> {
  const tenants: { id: string }[] = await db.query(
    `SELECT id FROM tenants WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[]) ORDER BY created_at, id`, [options.tenantIds ?? null]);
  let total = 0;
  for (const [i, { id }] of tenants.entries()) {
    const started = Date.now();
    const rows = await db.transaction(async (m) => {
      // nowait (a request): a queued exclusive request would hold back this tenant's writers behind it
      if (!(await lockTenantRollups(m, id, options.nowait))) throw new RollupRebuildBusy(id);
      await options.first?.(m, id);
      return rebuildTenant(m, id);
    });
    total += rows;
    options.onProgress?.({ tenant: i + 1, tenants: tenants.length, tenantId: id, rows, ms: Date.now() - started });
  }
  return { tenants: tenants.length, rows: total };
}

async function rebuildTenant(m: Queryable, id: string): Promise<number> {
  await m.query(
    `UPDATE responses r SET attributed_task_id = x.task_id
       FROM (SELECT r.id, CASE WHEN ${COUNTS_AS_RESPONSE} THEN (
               SELECT t.id FROM tasks t
                WHERE t.contact_id = r.contact_id AND t.tenant_id = r.tenant_id AND t.status = 'done' AND t.finished_at <= r.occurred_at
                  AND t.finished_at > r.occurred_at - make_interval(days => tn.attribution_window_days)
                ORDER BY t.finished_at DESC, t.id DESC LIMIT 1) END AS task_id
               FROM responses r JOIN tenants tn ON tn.id = r.tenant_id WHERE r.tenant_id = $1) x
      WHERE r.id = x.id AND r.attributed_task_id IS DISTINCT FROM x.task_id`, [id]);
  await m.query(
    `UPDATE tasks t SET responses = coalesce(x.n, 0), purchases = coalesce(x.p, 0), revenue = coalesce(x.a, 0)
       FROM tasks t2 LEFT JOIN (
         SELECT attributed_task_id AS id, count(*)::int AS n, count(*) FILTER (WHERE kind = 'bought')::int AS p,
                coalesce(sum(amount) FILTER (WHERE kind = 'bought'), 0) AS a
           FROM responses WHERE tenant_id = $1 AND attributed_task_id IS NOT NULL GROUP BY 1) x ON x.id = t2.id
      WHERE t.id = t2.id AND t2.tenant_id = $1
        AND (t.responses, t.purchases, t.revenue) IS DISTINCT FROM (coalesce(x.n, 0), coalesce(x.p, 0), coalesce(x.a, 0)::numeric(14, 2))`,
    [id]);
  let rows = 0;
  for (const kind of Object.keys(ROLLUP_TABLES) as RollupKind[]) {
    const { table, key } = ROLLUP_TABLES[kind];
    await m.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [id]);
    const [{ n }] = await m.query(
      `WITH ins AS (INSERT INTO ${table} (tenant_id, ${key.join(', ')}, ${COUNTER_COLUMNS.join(', ')})
       SELECT $1, ${key.join(', ')}, ${COUNTER_COLUMNS.join(', ')} FROM (${recountSql(kind)}) r RETURNING 1)
       SELECT count(*)::int AS n FROM ins`, [id]);
    rows += n;
  }
  return rows;
}
