import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@sop/db';
import { NativeConnection } from '@temporalio/worker';
import { createNotifier, notifyConfigFromEnv } from '@sop/notify';
import { connectClient, ensureReminderSweepSchedule, ensureSilenceSweepSchedule, TASK_QUEUE } from '@sop/temporal';
import pino from 'pino';
import { createEngineWorker } from './worker';
import { startWakeRelay } from './wake-relay';

const log = pino({ name: 'worker' });

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    log.fatal({ setting: name }, `Configuration error: ${name} is required`);
    process.exit(78);
  }
  return value;
}

async function main(): Promise<void> {
  const databaseUrl = required('DATABASE_URL');
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  // The API's setting of the same name: where it starts workflows is where the worker must poll.
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE || TASK_QUEUE;

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
  const worker = await createEngineWorker({ connection, namespace, db, taskQueue, reminders: {
    notifier, appUrl: process.env.APP_URL,
    // as in the API: robot and webhook hosts allowed to be internal (local test servers); none by default
    allowHosts: (process.env.NOTIFY_INSECURE_TARGET_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
  } });
  const client = await connectClient({ address, namespace });
  // SILENCE_SWEEP_SCHEDULE=off and REMINDER_SWEEP_SCHEDULE=off leave those (namespace-wide) Schedules alone,
  // e.g. for a throwaway test worker.
  if (process.env.SILENCE_SWEEP_SCHEDULE !== 'off') {
    log.info({ schedule: await ensureSilenceSweepSchedule(client, taskQueue) }, 'silence sweep schedule ready');
  }
  if (process.env.REMINDER_SWEEP_SCHEDULE !== 'off') {
    log.info({ schedule: await ensureReminderSweepSchedule(client, taskQueue), email: notifier.emailEnabled }, 'reminder sweep schedule ready');
  }
  const relay = await startWakeRelay(db, client, { onError: (err) => log.warn({ err }, 'wake relay') });
  log.info({ address, namespace, taskQueue: worker.options.taskQueue }, 'worker started');

  // The Temporal runtime shuts the worker down gracefully on SIGINT and SIGTERM.
  await worker.run();
  await relay.stop();
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
