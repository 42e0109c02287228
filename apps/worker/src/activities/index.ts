import type { WecomAccess } from '@sop/wecom';
import { createNotifier } from '@sop/notify';
import type { DataSource } from 'typeorm';
import { type ReminderDeps, reminderSweepActivities } from './reminder-sweep.activities';
import { roundTripActivities } from './round-trip.activities';
import { silenceSweepActivities } from './silence-sweep.activities';
import { sopDispatcherActivities } from './sop-dispatcher.activities';
import { sopOccurrenceActivities } from './sop-occurrence.activities';
import { wecomEventsActivities } from './wecom-events.activities';
import { wecomMassSendActivities } from './wecom-mass-send.activities';
import { wecomSyncActivities } from './wecom-sync.activities';

export type { ReminderDeps } from './reminder-sweep.activities';

/**
 * Builds every activity from its dependencies; the worker and the tests call this one factory. Without a
 * notifier, reminders go to robots and webhooks only (email needs SMTP settings).
 */
export function createActivities(
  db: DataSource, workerIdentity: string, reminders: ReminderDeps = { notifier: createNotifier({}) }, wecom?: WecomAccess,
  /** hosts a mass-send's image may be read from although internal; by default the robots' (NOTIFY_INSECURE_TARGET_HOSTS) */
  mediaHosts?: readonly string[],
) {
  return {
    ...roundTripActivities(db, workerIdentity), ...silenceSweepActivities(db), ...sopDispatcherActivities(db), ...sopOccurrenceActivities(db),
    ...reminderSweepActivities(db, reminders, wecom), ...wecomEventsActivities(db, wecom), ...wecomSyncActivities(db, wecom), ...wecomMassSendActivities(db, wecom, { appUrl: reminders.appUrl, allowHosts: mediaHosts ?? reminders.allowHosts }),
  };
}
