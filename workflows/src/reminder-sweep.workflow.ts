import { proxyActivities } from '@temporalio/workflow';
import type { DeliveryRun, ReminderPlan, ReminderSweepActivities } from './reminder-sweep.activities';

const { planReminders } = proxyActivities<ReminderSweepActivities>({
  startToCloseTimeout: '2 minutes',
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
 * fell due since the last sweep, then delivers what is due. Both steps are idempotent, so retries are safe.
 */
export async function reminderSweepWorkflow(input: ReminderSweepInput = {}): Promise<ReminderPlan & DeliveryRun> {
  const planned = await planReminders({ now: input.now ?? Date.now(), tenantIds: input.tenantIds });
  const delivered = await deliverReminders({ now: input.now, tenantIds: input.tenantIds });
  return { ...planned, ...delivered };
}
