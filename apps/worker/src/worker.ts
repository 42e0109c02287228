import { TASK_QUEUE } from '@sop/temporal';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { WecomAccess } from '@sop/wecom';
import type { DataSource } from 'typeorm';
import { createActivities, type ReminderDeps } from './activities';

export interface EngineWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  db: DataSource;
  identity?: string;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** the notifier (one per process: it holds the SMTP pool) and the app address for reminder deliveries */
  reminders?: ReminderDeps;
  /** tenants' WeCom connections (WECOM_SECRET_KEYS); without it, WeCom work fails with a message saying so */
  wecom?: WecomAccess;
  /** hosts a WeCom mass-send's images may be read from although internal (local test servers); default: reminders.allowHosts */
  mediaHosts?: readonly string[];
}

export const WORKFLOWS_PATH = require.resolve('@sop/workflows');

export async function createEngineWorker(options: EngineWorkerOptions): Promise<Worker> {
  const identity = options.identity ?? `sop-worker@${process.pid}`;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    identity,
    activities: createActivities(options.db, identity, options.reminders, options.wecom, options.mediaHosts),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
