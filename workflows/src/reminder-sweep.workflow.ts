import { patched, proxyActivities } from '@temporalio/workflow';
import type { DeliveryRun, ExpiryRun, HeldRetryRun, ReminderPlan, ReminderSweepActivities } from './reminder-sweep.activities';

// Every activity heartbeats each second (apps/worker heartbeating): with a heartbeat timeout, one on a worker that
// died is retried within 20 s; without, the sweep waited out its start-to-close timeout, and the Schedule skips
// every firing that overlaps it. (Activity options are not part of replay's determinism check.)
const { planReminders } = proxyActivities<ReminderSweepActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});
const { expireTasks, retryHeldTasks } = proxyActivities<ReminderSweepActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});
const { deliverReminders } = proxyActivities<ReminderSweepActivities>({
  startToCloseTimeout: '5 minutes',
  // a page that stops heartbeating (worker gone) is retried at once; its claims come back when their lease ends
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

export interface ReminderSweepInput {
  /** the sweep's clock (epoch ms); the workflow's own time when absent (Schedule firings) */
  now?: number;
  /** only these tenants (tests); every tenant when absent */
  tenantIds?: string[];
}

/**
 * Started every minute by the `reminder-sweep` Schedule (overlapping runs skipped): plans the reminders that
 * fell due since the last sweep, then delivers what is due, then expires the tasks whose grace period ended, then
 * places the tasks held for want of room where room has appeared.
 * Every step is idempotent, so retries are safe.
 */
export async function reminderSweepWorkflow(input: ReminderSweepInput = {}): Promise<ReminderPlan & DeliveryRun & Partial<ExpiryRun> & { held?: HeldRetryRun }> {
  const now = input.now ?? Date.now();
  const planned = await planReminders({ now, tenantIds: input.tenantIds });
  const delivered = await deliverReminders({ now: input.now, tenantIds: input.tenantIds });
  // Task expiry (issue 13) joined the sweep later: runs recorded before it replay without the activity.
  if (patched('task-expiry')) {
    const expiry = await expireTasks({ now, tenantIds: input.tenantIds });
    // Tasks held for want of room come back when room appears (issue 14): runs recorded before replay without it.
    if (patched('held-task-retry')) {
      const held = await retryHeldTasks({ now, tenantIds: input.tenantIds });
      return { ...planned, ...delivered, ...expiry, held };
    }
    return { ...planned, ...delivered, ...expiry };
  }
  return { ...planned, ...delivered };
}
