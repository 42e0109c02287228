import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@sop/db';
import { NativeConnection } from '@temporalio/worker';
import { connectClient, ensureSilenceSweepSchedule, TASK_QUEUE } from '@sop/temporal';
import pino from 'pino';
import { createEngineWorker } from './worker';

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

  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 10, application_name: 'sop-worker' } })).initialize();
  const connection = await NativeConnection.connect({ address });
  const worker = await createEngineWorker({ connection, namespace, db });
  const client = await connectClient({ address, namespace });
  log.info({ schedule: await ensureSilenceSweepSchedule(client, TASK_QUEUE) }, 'silence sweep schedule ready');
  await client.connection.close();
  log.info({ address, namespace, taskQueue: worker.options.taskQueue }, 'worker started');

  // The Temporal runtime shuts the worker down gracefully on SIGINT and SIGTERM.
  await worker.run();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((err) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
