import { recordContactActivity } from './contact-activity';
import type { Queryable } from './queryable';
import { recordResponse } from './responses';

/** Outcomes that mean the employee reached the customer, and those that mean the customer answered. */
export const CONTACTED_OUTCOMES = ['sent', 'replied', 'interested', 'not_interested', 'bought'];
export const RESPONDED_OUTCOMES = ['replied', 'interested', 'not_interested', 'bought'];

export interface CompletableTask {
  id: string;
  tenant_id: string;
  sop_id: string;
  step_index: number;
  contact_id: string | null;
}

/**
 * A pending task done with an outcome, in the caller's transaction (the task row locked by the caller): status,
 * a `completed` task event, the contact's contacted and responded times (an outbox `contact.updated`) and the
 * outcome as a response (response rules turn it into tags). The inbox and the WeCom mass-send poller both
 * complete tasks through this, so dashboards and rollups count them alike. `at` is when it was done (WeCom's
 * send time), now when absent.
 */
export async function completeTaskWithOutcome(
  m: Queryable, task: CompletableTask, outcome: string,
  { note = null, actorId = null, detail = {}, at }: { note?: string | null; actorId?: string | null; detail?: Record<string, unknown>; at?: Date } = {},
): Promise<void> {
  await m.query(
    `UPDATE tasks SET status = 'done', outcome = $2, note = $3, finished_at = coalesce($5::timestamptz, now()), snoozed_until = NULL
      WHERE id = $1 AND tenant_id = $4`,
    [task.id, outcome, note, task.tenant_id, at ?? null]);
  await m.query(`INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail) VALUES ($1, $2, 'completed', $3, $4)`,
    [task.tenant_id, task.id, actorId, { outcome, note, ...detail }]);
  if (!task.contact_id) return;
  await recordContactActivity(m, task.tenant_id, task.contact_id,
    { contacted: CONTACTED_OUTCOMES.includes(outcome), responded: RESPONDED_OUTCOMES.includes(outcome), at }, { outcome });
  await recordResponse(m, task.tenant_id, {
    contactId: task.contact_id, kind: 'outcome', source: 'outcome', outcome, taskId: task.id, sopId: task.sop_id,
    stepIndex: task.step_index, data: note ? { note } : {},
  });
}
