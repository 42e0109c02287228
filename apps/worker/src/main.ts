import { setPriority } from 'node:os';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@sop/db';
import { NativeConnection } from '@temporalio/worker';
import { createNotifier, notifyConfigFromEnv } from '@sop/notify';
import {
  connectClient, ensureReminderSweepSchedule, ensureSilenceSweepSchedule, ensureWecomIncrementalSyncSchedule, ensureWecomMassSendSchedule,
  ensureWecomNightlySyncSchedule,
} from '@sop/temporal';
import { WecomAccess } from '@sop/wecom';
import { parseSettings, WORKER_SETTINGS, type WorkerSettings } from '@sop/domain';
import pino from 'pino';
import pretty from 'pino-pretty';
import { createEngineWorker } from './worker';
import { startHandoverOwnersRelay } from './handover-owners-relay';
import { startWakeRelay } from './wake-relay';
import { startWecomPushRelay } from './wecom-push-relay';

/** Settings by the API's rules (libs/domain WORKER_SETTINGS); a bad one stops the worker naming it. */
function loadSettings(): WorkerSettings {
  try {
    return parseSettings(WORKER_SETTINGS, process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78);
  }
}

const settings = loadSettings();
yieldCpu(settings.WORKER_NICE);
// LOG_FORMAT=pretty (the run command): short coloured lines for people; JSON otherwise.
const log = pino(
  { name: 'worker', level: settings.LOG_LEVEL },
  settings.LOG_FORMAT === 'pretty' ? pretty({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }) : undefined,
);

/**
 * Lowers this process's priority before it starts any thread (Linux applies niceness per thread, and threads
 * inherit it from the thread that makes them). Lowering needs no privilege; a refusal is only logged.
 */
function yieldCpu(nice: number): void {
  if (!nice) return;
  try {
    setPriority(nice);
  } catch (err) {
    console.warn(`WORKER_NICE=${nice} was not applied: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue } = settings;
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 10, application_name: 'sop-worker' } })).initialize();
  const connection = await NativeConnection.connect({ address });
  let notifyConfig;
  try {
    notifyConfig = notifyConfigFromEnv(process.env);
  } catch (err) {
    log.fatal({ err }, `Configuration error: ${(err as Error).message}`);
    process.exit(78);
  }
  // One notifier per process: it holds the pooled SMTP connections every reminder email goes through.
  const notifier = createNotifier(notifyConfig);
  // The API seals tenants' WeCom secrets with these keys; the worker opens them to sync and to message employees.
  const wecom = settings.WECOM_SECRET_KEYS ? new WecomAccess({ secretKeys: settings.WECOM_SECRET_KEYS, apiBase: settings.WECOM_API_BASE }) : undefined;
  if (!wecom) log.warn('WECOM_SECRET_KEYS is not set: WeCom sync and app messages will fail until it is (the API\'s keys, the same value).');
  const worker = await createEngineWorker({ connection, namespace, db, taskQueue, wecom, reminders: {
    notifier, appUrl: settings.APP_URL,
    // as in the API: robot and webhook hosts allowed to be internal (local test servers); none by default
    allowHosts: settings.NOTIFY_INSECURE_TARGET_HOSTS,
  } });
  const client = await connectClient({ address, namespace });
  // SILENCE_SWEEP_SCHEDULE=off and REMINDER_SWEEP_SCHEDULE=off leave those (namespace-wide) Schedules alone,
  // e.g. for a throwaway test worker.
  if (settings.SILENCE_SWEEP_SCHEDULE === 'on') {
    log.info({ schedule: await ensureSilenceSweepSchedule(client, taskQueue) }, 'silence sweep schedule ready');
  }
  if (settings.REMINDER_SWEEP_SCHEDULE === 'on') {
    log.info({ schedule: await ensureReminderSweepSchedule(client, taskQueue), email: notifier.emailEnabled }, 'reminder sweep schedule ready');
  }
  // Only a worker that can open tenants' WeCom secrets keeps the nightly full sync's Schedule.
  if (wecom && settings.WECOM_SYNC_SCHEDULE === 'on') {
    log.info({ schedule: await ensureWecomNightlySyncSchedule(client, taskQueue) }, 'WeCom nightly sync schedule ready');
  }
  // ...and the incremental sync's, every 15 minutes unless WECOM_INCREMENTAL_SCHEDULE says otherwise (off: left alone)
  if (wecom && settings.WECOM_INCREMENTAL_SCHEDULE !== 'off') {
    const every = settings.WECOM_INCREMENTAL_SCHEDULE;
    log.info({ schedule: await ensureWecomIncrementalSyncSchedule(client, taskQueue, every), every }, 'WeCom incremental sync schedule ready');
  }
  // The same worker hands mass-send tasks to WeCom and reads back what employees confirmed (WECOM_MASS_SEND_SCHEDULE=off: not).
  if (wecom && settings.WECOM_MASS_SEND_SCHEDULE === 'on') {
    log.info({ schedule: await ensureWecomMassSendSchedule(client, taskQueue) }, 'WeCom mass-send schedule ready');
  }
  const relay = await startWakeRelay(db, client, { onError: (err) => log.warn({ err }, 'wake relay') });
  // our tag changes to WeCom: wakes the tenant's WeCom workflow when pushes wait
  const pushRelay = wecom ? await startWecomPushRelay(db, client, worker.options.taskQueue, wecom, { onError: (err) => log.warn({ err }, 'WeCom push relay') }) : null;
  // handovers whose owner segments the API did not get to evaluate after its commit (e.g. it restarted)
  const handoverRelay = await startHandoverOwnersRelay(db, {
    onError: (err) => log.warn({ err }, 'handover owners relay'),
    onFollowed: (done) => log.info(done, 'handover owner segments followed by the relay'),
  });
  log.info({ address, namespace, taskQueue: worker.options.taskQueue }, 'worker started');

  // The Temporal runtime shuts the worker down gracefully on SIGINT and SIGTERM.
  await worker.run();
  await relay.stop();
  await handoverRelay.stop();
  await pushRelay?.stop();
  await notifier.close();
  await client.connection.close();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((err) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
