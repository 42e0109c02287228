import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { msToNumber, type Duration } from '@temporalio/common';
import {
  reminderSweepWorkflow, silenceSweepWorkflow, wecomIncrementalSyncWorkflow, wecomMassSendWorkflow, wecomNightlySyncWorkflow, WECOM_SYNC_WORKFLOW_ID_PREFIX,
} from '@sop/workflows';

/** The task queue every worker of this engine polls. */
export const TASK_QUEUE = 'sop-engine';

export interface TemporalSettings {
  address: string;
  namespace: string;
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
  return new Client({ connection, namespace: settings.namespace });
}

/** Workflow ids are derived from domain ids so a retried start cannot create a second run. */
export const workflowIds = {
  /** round-trip ids are the client's choice, unique per tenant: the tenant is part of the workflow id */
  roundTrip: (tenantId: string, roundTripId: string) => `round-trip/${tenantId}/${roundTripId}`,
  sopDispatcher: (sopId: string) => `sop-dispatcher/${sopId}`,
  sopBroadcast: (sopId: string) => `sop-broadcast/${sopId}`,
  /** a recurring SOP's Schedule; each firing's workflow id is this plus the firing time */
  sopSchedule: (sopId: string) => `sop-recurring/${sopId}`,
  sopOccurrence: (sopId: string) => `sop-occurrence/${sopId}`,
  /** one per tenant: a second start while one runs joins it */
  wecomSync: (tenantId: string) => `${WECOM_SYNC_WORKFLOW_ID_PREFIX}${tenantId}`,
  /** one per tenant: applies its WeCom callback events */
  wecomEvents: (tenantId: string) => `wecom-events/${tenantId}`,
};

export const SILENCE_SWEEP_SCHEDULE = 'silence-sweep';
export const REMINDER_SWEEP_SCHEDULE = 'reminder-sweep';

/**
 * Makes sure the Schedule that sweeps time-based segment rules exists (every 15 minutes; a sweep
 * still running makes the next one skip). Safe to call at every worker start.
 */
export const ensureSilenceSweepSchedule = (client: Client, taskQueue: string, every: Duration = '15m') =>
  ensureSweepSchedule(client, SILENCE_SWEEP_SCHEDULE, silenceSweepWorkflow, taskQueue, every);

/**
 * Makes sure the Schedule that plans and delivers reminders exists (every minute, on the minute; a sweep
 * still running makes the next one skip, and the next plans from the last one's time). Safe at every start.
 */
export const ensureReminderSweepSchedule = (client: Client, taskQueue: string, every: Duration = '1m') =>
  ensureSweepSchedule(client, REMINDER_SWEEP_SCHEDULE, reminderSweepWorkflow, taskQueue, every);

export const WECOM_MASS_SEND_SCHEDULE = 'wecom-mass-send';

/**
 * Makes sure the Schedule that hands mass-send tasks to WeCom and reads back what employees confirmed exists
 * (every minute; a pass still running makes the next one skip). Safe at every worker start.
 */
export const ensureWecomMassSendSchedule = (client: Client, taskQueue: string, every: Duration = '1m') =>
  ensureSweepSchedule(client, WECOM_MASS_SEND_SCHEDULE, wecomMassSendWorkflow, taskQueue, every);

export const WECOM_NIGHTLY_SYNC_SCHEDULE = 'wecom-nightly-sync';

/**
 * Makes sure the Schedule of the nightly WeCom full sync exists: every day at `hour` (03:00 by default) in
 * China's time, when WeCom and our users are quiet; a nightly run still going makes the next one skip.
 */
export async function ensureWecomNightlySyncSchedule(client: Client, taskQueue: string, hour = 3): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: WECOM_NIGHTLY_SYNC_SCHEDULE,
      spec: { calendars: [{ hour, minute: 0 }], timezone: 'Asia/Shanghai' },
      action: { type: 'startWorkflow', workflowType: wecomNightlySyncWorkflow, taskQueue, args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}

export const WECOM_INCREMENTAL_SYNC_SCHEDULE = 'wecom-incremental-sync';

/**
 * Makes sure the Schedule of the incremental WeCom sync exists and fires every `every` (15 minutes by default;
 * `WECOM_INCREMENTAL_SCHEDULE`): a firing still running makes the next skip. An existing Schedule with another
 * interval is given this one ('updated'), so changing the setting takes effect at the next worker start.
 */
export async function ensureWecomIncrementalSyncSchedule(client: Client, taskQueue: string, every: Duration = '15m'): Promise<'created' | 'exists' | 'updated'> {
  const made = await ensureSweepSchedule(client, WECOM_INCREMENTAL_SYNC_SCHEDULE, wecomIncrementalSyncWorkflow, taskQueue, every);
  if (made === 'created') return made;
  const handle = client.schedule.getHandle(WECOM_INCREMENTAL_SYNC_SCHEDULE);
  const { spec } = await handle.describe();
  if (spec.intervals?.length === 1 && msToNumber(spec.intervals[0].every) === msToNumber(every)) return 'exists';
  await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every }] } }));
  return 'updated';
}

/** A namespace-wide Schedule starting `workflowType` every `every`, skipping a firing while one still runs. */
async function ensureSweepSchedule(
  client: Client, scheduleId: string, workflowType: () => Promise<unknown>, taskQueue: string, every: Duration,
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every }] },
      action: { type: 'startWorkflow', workflowType, taskQueue, args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
