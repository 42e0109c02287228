import { APP_LINKS, MESSAGES } from '@sop/domain';
import type { Queryable } from './queryable';
import { MANAGED_PAIRS_SQL, teamManagedWhere } from './managed-teams';
import type { TransactionalDb } from './silence-sweep';
import { todayListWhere } from './today-list';

/**
 * Reminder planning: set-based statements that turn tasks into notifications for every tenant at once.
 * Each statement inserts notifications keyed (user, dedupe key) with ON CONFLICT DO NOTHING and, in the same
 * statement, one delivery per new notification and external target (also keyed), so planning twice, or two
 * sweeps overlapping a retry, create each reminder once. A sweep plans the moments in (last sweep, now],
 * so one that was down catches up; the window reaches SETTLE further back for tasks committed late.
 */

/** How far back a window reaches again for rows committed after the previous sweep looked. */
const SETTLE = `interval '2 minutes'`;
/** A sweep that was down longer than this does not dig up older reminders: they would be stale. */
const MAX_LOOKBACK = `interval '1 day'`;
/**
 * Candidates are found by index ranges first; everything else about each one is read by its id in a LATERAL
 * subquery that OFFSET 0 keeps from being flattened. The planner cannot estimate ranges whose bounds are
 * computed in the statement, and with a bad guess it joined every task of every user (1M rows for 10k due).
 */
const FENCE = 'OFFSET 0';
/** How many contacts a digest line names. */
const DIGEST_NAMES = 3;

export interface PlanResult {
  digests: number;
  managerDigests: number;
  dueSoon: number;
  escalations: number;
  deliveries: number;
}

/** The name a reminder gives a task: its contact, or its group, or its number. */
const WHO = `coalesce(nullif(c.name, ''), g.name, c.external_id, '#' || t.id)`;
const localTime = (ts: string, tz: string) => `to_char(${ts} AT TIME ZONE ${tz}, 'MM-DD HH24:MI')`;
/** One of two templates by the user's locale. */
const byLocale = (locale: string, zh: string, en: string) => `CASE ${locale} WHEN 'zh' THEN ${zh} ELSE ${en} END`;

/**
 * Wraps a candidate SELECT (columns: tenant_id, user_id, kind, dedupe_key, title, body, link, task_id,
 * mandatory, data) into the statement that inserts the new notifications and their deliveries: one per external
 * channel the user chose, and a WeCom app message when the user is matched to a member of the tenant's WeCom
 * corporation. Non-mandatory external deliveries wait for the end of the user's quiet hours; mandatory ones go at once.
 */
export function insertNotificationsSql(candidates: string, now: string, prefix = ''): string {
  return `WITH ${prefix}cand AS (${candidates}),
    ins AS (
      INSERT INTO notifications (tenant_id, user_id, kind, dedupe_key, title, body, link, task_id, mandatory, data)
      SELECT tenant_id, user_id, kind, dedupe_key, title, body, link, task_id, mandatory, data FROM cand
      ON CONFLICT (user_id, dedupe_key) DO NOTHING
      RETURNING id, tenant_id, user_id, mandatory),
    dl AS (
      INSERT INTO notification_deliveries (tenant_id, notification_id, channel, target_id, target_key, next_attempt_at)
      SELECT i.tenant_id, i.id, x.channel, x.target_id, x.target_key,
             CASE WHEN i.mandatory THEN ${now} ELSE notify_release_at(${now}, s.timezone, s.quiet_start, s.quiet_end) END
        FROM ins i JOIN user_notification_settings s ON s.user_id = i.user_id
       CROSS JOIN LATERAL (
         SELECT 'email', NULL::uuid, 'email' WHERE 'email' = ANY(s.channels)
         UNION ALL
         SELECT nt.kind, nt.id, nt.id::text FROM notification_targets nt WHERE nt.user_id = i.user_id AND nt.kind = ANY(s.channels)
         UNION ALL
         -- the WeCom app's text card, to a user matched to an active member of the tenant's connected corporation
         SELECT 'wecom_app', NULL::uuid, 'wecom_app' FROM wecom_users wu JOIN wecom_connections wc ON wc.tenant_id = wu.tenant_id
          WHERE wu.tenant_id = i.tenant_id AND wu.user_id = i.user_id AND wu.active
       ) x(channel, target_id, target_key)
      ON CONFLICT (notification_id, target_key) DO NOTHING
      RETURNING 1)
    SELECT (SELECT count(*) FROM ins)::int AS notifications, (SELECT count(*) FROM dl)::int AS deliveries`;
}

/** Each tenant's window start ($1: now, $2: tenant ids or null), read after the sweep rows are locked. */
const SINCE = `SELECT tenant_id, GREATEST(swept_at, $1::timestamptz - ${MAX_LOOKBACK}) - ${SETTLE} AS since
                 FROM reminder_sweeps WHERE $2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[])`;
const WINDOWS = `w AS (${SINCE}), `;

/** A step's reminder policy, read from the task's published version. */
const STEP = `v.definition -> 'steps' -> t.step_index`;

/**
 * The due-soon nudge, N minutes before a pending task's window closes (N from the step, else the executor's
 * preference); at the window's opening when the window is shorter than N. Snoozed tasks are left alone.
 * Candidates come from index ranges with bounds bound as values (the planner cannot use, nor estimate, bounds
 * computed in the statement: it scanned half the tasks): window ends in (since + n, now + n] for each n in
 * use, and windows that opened in (since, now] (the executor's task index).
 */
const DUE_SOON_MINUTES = `
  SELECT DISTINCT n FROM (
    SELECT due_soon_minutes AS n FROM user_notification_settings WHERE tenant_id IN (SELECT tenant_id FROM w) AND disabled_at IS NULL
    UNION SELECT (st -> 'reminder' ->> 'dueSoonMinutes')::int
      FROM sops so JOIN sop_versions v ON v.sop_id = so.id, jsonb_array_elements(v.definition -> 'steps') st
     WHERE so.status IN ('active', 'paused') AND so.tenant_id IN (SELECT tenant_id FROM w)) x WHERE n IS NOT NULL`;
const dueSoonIds = (ranges: string[], lo: string) => `
  ids AS (
    SELECT t.id FROM tasks t WHERE t.status = 'pending' AND (${ranges.join(' OR ')})
    UNION
    SELECT t.id FROM user_notification_settings u
      JOIN tasks t ON t.tenant_id = u.tenant_id AND t.executor_id = u.user_id AND t.status = 'pending'
     WHERE u.tenant_id IN (SELECT tenant_id FROM w) AND u.disabled_at IS NULL AND t.due_at > ${lo} AND t.due_at <= $1::timestamptz),
  `;
const DUE_SOON_CANDIDATES = `
  SELECT x.* FROM ids CROSS JOIN LATERAL (
    SELECT t.tenant_id, t.executor_id AS user_id, 'due_soon' AS kind, 'due_soon:' || t.id AS dedupe_key,
           format(${byLocale('s.locale', '$3', '$4')}, ${WHO}, so.name, ${STEP} ->> 'name', ${localTime('t.due_until', 's.timezone')}) AS title,
           format(${byLocale('s.locale', '$5', '$6')}, ${WHO}, so.name, ${STEP} ->> 'name', ${localTime('t.due_until', 's.timezone')}) AS body,
           '${APP_LINKS.task('')}' || t.id AS link, t.id AS task_id, pol.mandatory,
           jsonb_build_object('sopId', t.sop_id, 'dueUntil', t.due_until) AS data
      FROM tasks t
      JOIN w ON w.tenant_id = t.tenant_id
      JOIN user_notification_settings s ON s.user_id = t.executor_id AND s.disabled_at IS NULL
      JOIN sop_versions v ON v.id = t.sop_version_id
      JOIN sops so ON so.id = t.sop_id
      LEFT JOIN contacts c ON c.id = t.contact_id
      LEFT JOIN customer_groups g ON g.id = t.group_id
     CROSS JOIN LATERAL (SELECT coalesce((${STEP} -> 'reminder' ->> 'dueSoonMinutes')::int, s.due_soon_minutes) AS n,
                                coalesce((${STEP} -> 'reminder' ->> 'mandatory')::boolean, false) AS mandatory) pol
     CROSS JOIN LATERAL (SELECT GREATEST(t.due_until - make_interval(mins => pol.n), t.due_at) AS at) m
     WHERE t.id = ids.id AND m.at > w.since AND m.at <= $1::timestamptz AND t.due_until > $1::timestamptz
       AND (t.snoozed_until IS NULL OR t.snoozed_until <= m.at)
       AND (pol.mandatory OR NOT 'due_soon' = ANY(s.kinds_off))
    ${FENCE}) x`;

/**
 * The overdue escalation, M minutes after a pending task's window closed (M from the step's policy), to the
 * manager of the executor's team (managed-teams.ts; not to a manager who is the executor). Steps with a policy are
 * few: one index range of window ends per step, with its bounds bound as values.
 */
const ESCALATION_POLICIES = `
  SELECT v.id AS version_id, (st.ord - 1)::int AS step_index, st.step ->> 'name' AS step_name,
         (st.step -> 'reminder' ->> 'overdueEscalationMinutes')::int AS m,
         coalesce((st.step -> 'reminder' ->> 'mandatory')::boolean, false) AS mandatory
    FROM sops so JOIN sop_versions v ON v.sop_id = so.id, jsonb_array_elements(v.definition -> 'steps') WITH ORDINALITY st(step, ord)
   WHERE so.status IN ('active', 'paused') AND so.tenant_id IN (SELECT tenant_id FROM w)
     AND st.step -> 'reminder' ? 'overdueEscalationMinutes'`;
interface EscalationPolicy { version_id: string; step_index: number; step_name: string; m: number; mandatory: boolean }
const escalationLate = (ranges: string[]) => `
  late AS (SELECT t.id, p.step_name, p.m, p.mandatory
             FROM tasks t JOIN pol p ON p.version_id = t.sop_version_id AND p.step_index = t.step_index
            WHERE t.status = 'pending' AND (${ranges.join(' OR ')}) AND t.due_until <= $1::timestamptz - make_interval(mins => p.m)),
  `;
const ESCALATION_CANDIDATES = `
  SELECT x.* FROM late CROSS JOIN LATERAL (
    SELECT t.tenant_id, s.user_id, 'escalation' AS kind, 'escalation:' || t.id AS dedupe_key,
           format(${byLocale('s.locale', '$3', '$4')}, ${WHO}, so.name, late.step_name, ${localTime('t.due_until', 's.timezone')}, ex.name) AS title,
           format(${byLocale('s.locale', '$5', '$6')}, ${WHO}, so.name, late.step_name, ${localTime('t.due_until', 's.timezone')}, ex.name) AS body,
           '${APP_LINKS.teamTask('')}' || t.id AS link, t.id AS task_id, late.mandatory,
           jsonb_build_object('sopId', t.sop_id, 'executorId', t.executor_id, 'dueUntil', t.due_until) AS data
      FROM tasks t
      JOIN w ON w.tenant_id = t.tenant_id
      JOIN users ex ON ex.id = t.executor_id
      JOIN (${MANAGED_PAIRS_SQL}) mp ON mp.tenant_id = t.tenant_id AND mp.user_id = t.executor_id
      JOIN user_notification_settings s ON s.user_id = mp.manager_id AND s.disabled_at IS NULL
      JOIN sops so ON so.id = t.sop_id
      LEFT JOIN contacts c ON c.id = t.contact_id
      LEFT JOIN customer_groups g ON g.id = t.group_id
     WHERE t.id = late.id AND t.due_until + make_interval(mins => late.m) > w.since
       AND mp.manager_id <> t.executor_id
       AND (late.mandatory OR NOT 'escalation' = ANY(s.kinds_off))
    ${FENCE}) x`;

/**
 * The morning digest: when the user's digest time (in their zone) fell in the window, one notification listing
 * the tasks of the inbox's Today list at the digest's time (count per SOP, the first contacts), only for users who
 * have some: a task snoozed until later that day is not counted, as the Today badge does not count it yet
 * (today-list.ts, the one condition for both).
 */
const DIGEST = `
  due AS (
    SELECT s.tenant_id, s.user_id, s.locale, s.timezone, d.day, d.at
      FROM w JOIN user_notification_settings s ON s.tenant_id = w.tenant_id AND s.disabled_at IS NULL AND NOT 'digest' = ANY(s.kinds_off)
     CROSS JOIN LATERAL (SELECT day, (day + s.digest_time) AT TIME ZONE s.timezone AS at
                           FROM (VALUES (($1::timestamptz AT TIME ZONE s.timezone)::date),
                                        (($1::timestamptz AT TIME ZONE s.timezone)::date - 1)) dd(day)) d
     WHERE d.at > w.since AND d.at <= $1::timestamptz),
  per_sop AS (
    SELECT u.user_id, u.day, t.sop_id, count(*) AS n, (array_agg(t.id ORDER BY t.due_at, t.id))[1:${DIGEST_NAMES}] AS first_ids
      FROM due u
      JOIN tasks t ON t.tenant_id = u.tenant_id AND t.executor_id = u.user_id
       AND ${todayListWhere('t', { now: 'u.at', end: '((u.day + 1)::timestamp AT TIME ZONE u.timezone)' })}
     GROUP BY u.user_id, u.day, t.sop_id),
  lines AS (
    SELECT p.*, so.name AS sop_name,
           ARRAY(SELECT ${WHO} FROM unnest(p.first_ids) WITH ORDINALITY f(id, o) JOIN tasks t ON t.id = f.id
                   LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN customer_groups g ON g.id = t.group_id ORDER BY f.o) AS names
      FROM per_sop p JOIN sops so ON so.id = p.sop_id),
  `;
const DIGEST_CANDIDATES = `
  SELECT u.tenant_id, u.user_id, 'digest' AS kind, 'digest:' || u.day AS dedupe_key,
         format(${byLocale('u.locale', '$3', '$4')}, sum(p.n)) AS title,
         string_agg(format(${byLocale('u.locale', '$5', '$6')}, p.sop_name, p.n,
                           array_to_string(p.names, ${byLocale('u.locale', '$7', '$8')})
                             || CASE WHEN p.n > ${DIGEST_NAMES} THEN ${byLocale('u.locale', '$9', '$10')} ELSE '' END),
                    E'\\n' ORDER BY p.n DESC, p.sop_name) AS body,
         '${APP_LINKS.today}' AS link, NULL::bigint AS task_id, false AS mandatory,
         jsonb_build_object('day', u.day, 'tasks', sum(p.n), 'sops', jsonb_agg(jsonb_build_object('sopId', p.sop_id, 'name', p.sop_name, 'tasks', p.n))) AS data
    FROM due u JOIN lines p ON p.user_id = u.user_id AND p.day = u.day
   GROUP BY u.tenant_id, u.user_id, u.day, u.locale`;

/**
 * The manager's digest: when the manager's digest time (in their zone) fell in the window, yesterday's completion
 * of each member of the teams they manage, from the executor rollups (yesterday: the day before the manager's
 * today, as a day of the rollups, which are in the organization's zone). Completion is done / (done + skipped +
 * expired + still pending), docs/dashboards.md's completion rate with yesterday's still-pending tasks as overdue.
 * The members are those the team dashboard it links to counts: every user of the team, the manager too when they
 * are one, so the digest's team total is the dashboard's.
 * Only for managers whose teams had tasks that day.
 */
const MANAGER_DIGEST = `
  mdue AS (
    SELECT s.tenant_id, s.user_id, s.locale, s.timezone, d.day, d.at
      FROM w JOIN user_notification_settings s ON s.tenant_id = w.tenant_id AND s.disabled_at IS NULL AND NOT 'manager_digest' = ANY(s.kinds_off)
     CROSS JOIN LATERAL (SELECT day, (day + s.digest_time) AT TIME ZONE s.timezone AS at
                           FROM (VALUES (($1::timestamptz AT TIME ZONE s.timezone)::date),
                                        (($1::timestamptz AT TIME ZONE s.timezone)::date - 1)) dd(day)) d
     WHERE d.at > w.since AND d.at <= $1::timestamptz AND EXISTS (SELECT 1 FROM teams tm WHERE ${teamManagedWhere('tm', 's.tenant_id', 's.user_id')})),
  mlines AS (
    SELECT u.user_id, u.day, ex.id AS executor_id, ex.name, sum(r.done)::int AS done,
           sum(r.done + r.skipped + r.expired + r.pending)::int AS closed, sum(r.pending)::int AS pending
      FROM mdue u JOIN (${MANAGED_PAIRS_SQL}) mp ON mp.tenant_id = u.tenant_id AND mp.manager_id = u.user_id
      JOIN users ex ON ex.id = mp.user_id
      JOIN task_rollups_executor r ON r.tenant_id = u.tenant_id AND r.executor_id = ex.id AND r.day = u.day - 1
     GROUP BY u.user_id, u.day, ex.id, ex.name
    HAVING sum(r.done + r.skipped + r.expired + r.pending) > 0),
  `;
const pct = (a: string, b: string) => `coalesce(round(100.0 * ${a} / nullif(${b}, 0))::int, 0)`;
const MANAGER_DIGEST_CANDIDATES = `
  SELECT u.tenant_id, u.user_id, 'manager_digest' AS kind, 'manager_digest:' || u.day AS dedupe_key,
         format(${byLocale('u.locale', '$3', '$4')}, sum(l.done), sum(l.closed), ${pct('sum(l.done)', 'sum(l.closed)')}) AS title,
         string_agg(format(${byLocale('u.locale', '$5', '$6')}, l.name, l.done, l.closed, ${pct('l.done', 'l.closed')}, l.pending),
                    E'\\n' ORDER BY l.done::float / nullif(l.closed, 0), l.name) AS body,
         '${APP_LINKS.teamDashboard}' AS link, NULL::bigint AS task_id, false AS mandatory,
         jsonb_build_object('day', u.day - 1, 'done', sum(l.done), 'closed', sum(l.closed),
                            'employees', jsonb_agg(jsonb_build_object('userId', l.executor_id, 'name', l.name, 'done', l.done, 'closed', l.closed, 'pending', l.pending)
                                                   ORDER BY l.name)) AS data
    FROM mdue u JOIN mlines l ON l.user_id = u.user_id AND l.day = u.day
   GROUP BY u.tenant_id, u.user_id, u.day, u.locale`;
const { zh: mz, en: me } = MESSAGES.manager_digest;

const texts = (kind: 'due_soon' | 'escalation') => [MESSAGES[kind].zh.title, MESSAGES[kind].en.title, MESSAGES[kind].zh.body, MESSAGES[kind].en.body];
const { zh: dz, en: de } = MESSAGES.digest;

/**
 * One sweep: plans every reminder whose moment fell in (last sweep, now] for each tenant (or the named ones),
 * in one transaction that also moves the tenants' sweep time, so a retry after a failure plans the same window.
 * The sweep rows are locked first, so two sweeps at once run one after the other and the second finds nothing.
 */
export async function planReminders(db: TransactionalDb, now: Date, onlyTenants?: string[]): Promise<PlanResult> {
  const scope = [now, onlyTenants ?? null];
  return db.transaction(async (m) => {
    // a tenant's first sweep starts now (less the settling margin): nothing was planned for it before
    await m.query(
      `INSERT INTO reminder_sweeps (tenant_id, swept_at) SELECT id, $1::timestamptz FROM tenants
        WHERE $2::uuid[] IS NULL OR id = ANY($2::uuid[]) ON CONFLICT DO NOTHING`, scope);
    await m.query(`SELECT 1 FROM reminder_sweeps WHERE $1::uuid[] IS NULL OR tenant_id = ANY($1::uuid[]) ORDER BY tenant_id FOR UPDATE`, [scope[1]]);
    const [{ lo }]: { lo: Date | null }[] = await m.query(`SELECT min(since) AS lo FROM (${SINCE}) w`, scope);
    const result: PlanResult = { digests: 0, managerDigests: 0, dueSoon: 0, escalations: 0, deliveries: 0 };
    if (!lo) return result;
    const run = async (ctes: string, candidates: string, params: unknown[]) => {
      const [row] = await m.query(insertNotificationsSql(candidates, '$1::timestamptz', WINDOWS + ctes), [...scope, ...params]);
      result.deliveries += row.deliveries;
      return row.notifications as number;
    };
    result.digests = await run(DIGEST, DIGEST_CANDIDATES, [dz.title, de.title, dz.line, de.line, dz.separator, de.separator, dz.more, de.more]);
    result.managerDigests = await run(MANAGER_DIGEST, MANAGER_DIGEST_CANDIDATES, [mz.title, me.title, mz.line, me.line]);
    result.dueSoon = await planDueSoon(m, scope, lo, run);
    result.escalations = await planEscalations(m, scope, lo, run);
    await m.query(`UPDATE reminder_sweeps SET swept_at = GREATEST(swept_at, $1) WHERE $2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[])`, scope);
    return result;
  });
}

type Run = (ctes: string, candidates: string, params: unknown[]) => Promise<number>;
const MINUTE = 60_000;

async function planDueSoon(m: Queryable, scope: unknown[], lo: Date, run: Run): Promise<number> {
  const minutes: number[] = (await m.query(`WITH ${WINDOWS.replace(/, $/, '')} ${DUE_SOON_MINUTES}`, scope)).map((r: { n: number }) => r.n);
  const params: unknown[] = texts('due_soon');
  const p = (v: unknown) => `$${scope.length + params.push(v)}`;
  const now = (scope[0] as Date).getTime();
  const ranges = minutes.map((n) => `(t.due_until > ${p(new Date(lo.getTime() + n * MINUTE))} AND t.due_until <= ${p(new Date(now + n * MINUTE))})`);
  if (!ranges.length) ranges.push('false');
  return run(dueSoonIds(ranges, p(lo)), DUE_SOON_CANDIDATES, params);
}

async function planEscalations(m: Queryable, scope: unknown[], lo: Date, run: Run): Promise<number> {
  const policies: EscalationPolicy[] = await m.query(`WITH ${WINDOWS.replace(/, $/, '')} ${ESCALATION_POLICIES}`, scope);
  if (!policies.length) return 0;
  const params: unknown[] = texts('escalation');
  const p = (v: unknown) => `$${scope.length + params.push(v)}`;
  const now = (scope[0] as Date).getTime();
  const ms = [...new Set(policies.map((x) => x.m))];
  const ranges = ms.map((mins) => `(t.due_until > ${p(new Date(lo.getTime() - mins * MINUTE))} AND t.due_until <= ${p(new Date(now - mins * MINUTE))})`);
  const pol = `pol AS (SELECT * FROM unnest(${p(policies.map((x) => x.version_id))}::uuid[], ${p(policies.map((x) => x.step_index))}::int[],
                 ${p(policies.map((x) => x.step_name))}::text[], ${p(policies.map((x) => x.m))}::int[], ${p(policies.map((x) => x.mandatory))}::boolean[])
                 AS p(version_id, step_index, step_name, m, mandatory)),`;
  return run(pol + escalationLate(ranges), ESCALATION_CANDIDATES, params);
}

/**
 * A tracked link was opened: tells the task's executor, in the opening's transaction (so the in-app
 * notification is pushed when it commits). Once per task, material and day, like the open itself; the
 * external deliveries go out with the next sweep's delivery.
 */
export async function notifyMaterialOpened(
  m: Queryable, open: { tenantId: string; taskId: string; materialIndex: number; material: string; day: string },
): Promise<void> {
  const t = MESSAGES.material_opened;
  await m.query(insertNotificationsSql(`
    SELECT t.tenant_id, t.executor_id AS user_id, 'material_opened' AS kind, 'material_opened:' || t.id || ':' || $3::int || ':' || $4::text AS dedupe_key,
           format(${byLocale('s.locale', '$6', '$7')}, ${WHO}, $5::text, so.name) AS title,
           format(${byLocale('s.locale', '$8', '$9')}, ${WHO}, $5::text, so.name) AS body,
           '${APP_LINKS.task('')}' || t.id AS link, t.id AS task_id, false AS mandatory,
           jsonb_build_object('material', $5::text, 'contactId', t.contact_id) AS data
      FROM tasks t
      JOIN user_notification_settings s ON s.user_id = t.executor_id AND s.disabled_at IS NULL
      JOIN sops so ON so.id = t.sop_id
      LEFT JOIN contacts c ON c.id = t.contact_id
      LEFT JOIN customer_groups g ON g.id = t.group_id
     WHERE t.tenant_id = $1 AND t.id = $2 AND NOT 'material_opened' = ANY(s.kinds_off)`, 'now()'),
  [open.tenantId, open.taskId, open.materialIndex, open.day, open.material, t.zh.title, t.en.title, t.zh.body, t.en.body]);
}
