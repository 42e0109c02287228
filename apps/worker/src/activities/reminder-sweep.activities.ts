import { expireTasks, planReminders, retryHeldTasks } from '@sop/engine';
import type { Notifier } from '@sop/notify';
import type { WecomAccess } from '@sop/wecom';
import type { ReminderSweepActivities } from '@sop/workflows';
import { Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import { deliverDueReminders } from '../reminder-delivery';
import { heartbeating } from './heartbeating';

export interface ReminderDeps {
  notifier: Notifier;
  /** the web app's public address, for links in emails */
  appUrl?: string;
  /** robot and webhook hosts that may be internal addresses (local test servers) */
  allowHosts?: readonly string[];
}

export function reminderSweepActivities(db: DataSource, { notifier, appUrl, allowHosts }: ReminderDeps, wecom?: WecomAccess): ReminderSweepActivities {
  return {
    planReminders: ({ now, tenantIds }) => heartbeating(() => planReminders(db, new Date(now), tenantIds)),
    expireTasks: ({ now, tenantIds }) => heartbeating(() => expireTasks(db, new Date(now), tenantIds)),
    retryHeldTasks: ({ now, tenantIds }) => heartbeating(() => retryHeldTasks(db, new Date(now), tenantIds)),
    deliverReminders: ({ now, tenantIds }) => heartbeating(() => deliverDueReminders(db, notifier, {
      now: now === undefined ? undefined : new Date(now), onlyTenants: tenantIds, appUrl, allowHosts, wecom, onPage: () => Context.current().heartbeat(),
    })),
  };
}
