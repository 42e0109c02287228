import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@sop/db';
import { NativeConnection } from '@temporalio/worker';
import { connectClient, ensureSilenceSweepSchedule, TASK_QUEUE } from '@sop/temporal';
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
  const worker = await createEngineWorker({ connection, namespace, db, taskQueue });
  // SILENCE_SWEEP_SCHEDULE=off leaves the (namespace-wide) Schedule alone, e.g. for a throwaway test worker.
  if (process.env.SILENCE_SWEEP_SCHEDULE !== 'off') {
    const client = await connectClient({ address, namespace });
    log.info({ schedule: await ensureSilenceSweepSchedule(client, taskQueue) }, 'silence sweep schedule ready');
    await client.connection.close();
  }
  const client = await connectClient({ address, namespace });
  const relay = await startWakeRelay(db, client, { onError: (err) => log.warn({ err }, 'wake relay') });
  log.info({ address, namespace, taskQueue: worker.options.taskQueue }, 'worker started');

  // The Temporal runtime shuts the worker down gracefully on SIGINT and SIGTERM.
  await worker.run();
  await relay.stop();
  await client.connection.close();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((err) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
