/**
 * Task expiry: a pending task whose window closed more than the tenant's grace period ago (tenants.
 * task_expiry_grace_hours, default 24 h) becomes `expired`, set-based, in pages, each page one statement that
 * also writes an `expired` task event per task. Until then the task stays in the executor's overdue list.
 * Run every minute by the reminder sweep; repeating it changes nothing.
 */
import type { Queryable } from './queryable';

export interface ExpiryRun {
  expired: number;
}

export async function expireTasks(db: Queryable, now: Date, tenantIds?: string[], pageSize = 5000): Promise<ExpiryRun> {
  const tenants: { id: string; grace: number }[] = await db.query(
    `SELECT id, task_expiry_grace_hours AS grace FROM tenants WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[])`, [tenantIds ?? null]);
  let expired = 0;
  for (const tenant of tenants) {
    const cutoff = new Date(now.getTime() - tenant.grace * 3600_000);
    for (;;) {
      // The executor's open-window index (tenant, executor, due_until) where pending serves the page.
      const [{ n }] = await db.query(
        `WITH due AS (
           SELECT id FROM tasks WHERE tenant_id = $1 AND status = 'pending' AND due_until < $2 LIMIT $4 FOR UPDATE SKIP LOCKED
         ), x AS (
           UPDATE tasks t SET status = 'expired', finished_at = $3, snoozed_until = NULL FROM due
            WHERE t.id = due.id AND t.status = 'pending'
           RETURNING t.id, t.tenant_id, t.due_until, t.executor_id
         ), ev AS (
           INSERT INTO task_events (tenant_id, task_id, action, detail)
           SELECT tenant_id, id, 'expired', jsonb_build_object('dueUntil', due_until, 'executorId', executor_id, 'graceHours', $5::int) FROM x
         )
         SELECT count(*)::int AS n FROM x`,
        [tenant.id, cutoff, now, pageSize, tenant.grace],
      );
      expired += n;
      if (n < pageSize) break;
    }
  }
  return { expired };
}
