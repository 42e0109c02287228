import { createApp, loadConfig } from '@sop/api';
import { dataSourceOptions } from '@sop/db';
import { createNotifier, type Notifier } from '@sop/notify';
import { createEngineWorker, startWecomPushRelay, type WecomPushRelay } from '@sop/worker';
import { Client, Connection } from '@temporalio/client';
import { WecomAccess } from '@sop/wecom';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { testEnv, withApplicationName, WORKFLOW_BUNDLE } from './env';
import { Http } from './http';

/**
 * The real system in-process: the Nest API on a free port and a Temporal worker on a task queue
 * of its own, both on the real Postgres and the real Temporal server the test command started.
 */
export class Stack {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly baseUrl: string,
    readonly db: DataSource,
    readonly taskQueue: string,
    /** the worker's reminder notifier (email through `smtpUrl` when given) */
    readonly notifier: Notifier,
    /**
     * The name of this stack's Postgres sessions (its API's and `db`'s) in pg_stat_activity: the Postgres is every
     * test file's, so a look at sessions by what they run is scoped to this stack by it.
     */
    readonly applicationName: string,
    private readonly worker?: { worker: Worker; running: Promise<void>; connection: NativeConnection; relay: WecomPushRelay; client: Connection },
  ) {}

  static async start(
    { worker = false, env = {}, smtpUrl }: { worker?: boolean; env?: Record<string, string>; smtpUrl?: string } = {},
  ): Promise<Stack> {
    const taskQueue = `test-${randomUUID()}`;
    const applicationName = `sop-${taskQueue}`;
    const config = loadConfig({
      TEMPORAL_ADDRESS: testEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
      PORT: '0',
      // every test signs up its tenants (and the fuzz pass posts join forms) from 127.0.0.1, and the counters are
      // shared by every test file's API through Postgres: the per-address limits are tested on their own
      LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000',
      SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR: '100000',
      JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000',
      ...env,
      DATABASE_URL: withApplicationName(env.DATABASE_URL ?? testEnv('DATABASE_URL'), applicationName),
    });
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const baseUrl = await app.getUrl();
    const db = await new DataSource(dataSourceOptions(config.databaseUrl, { extra: { max: 4 } })).initialize();
    const notifier = createNotifier(smtpUrl ? { smtp: { url: smtpUrl, from: 'SOP reminders <reminders@test.example>' } } : {});
    if (!worker) return new Stack(app, baseUrl.replace('[::1]', '127.0.0.1'), db, taskQueue, notifier, applicationName);
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const w = await createEngineWorker({
      connection, namespace: config.temporal.namespace, db, taskQueue, identity: `test-worker-${taskQueue}`,
      workflowBundle: { codePath: WORKFLOW_BUNDLE }, reminders: { notifier, appUrl: baseUrl }, wecom: new WecomAccess(config.wecom),
      mediaHosts: config.notifyInsecureTargetHosts,
    });
    const running = w.run();
    // as the worker's main does: our tag changes wake the tenant's WeCom workflow (only tenants this stack's keys open)
    const clientConnection = await Connection.connect({ address: config.temporal.address });
    const relay = await startWecomPushRelay(db, new Client({ connection: clientConnection, namespace: config.temporal.namespace }), taskQueue, new WecomAccess(config.wecom));
    return new Stack(app, baseUrl, db, taskQueue, notifier, applicationName, { worker: w, running, connection, relay, client: clientConnection });
  }

  async stop(): Promise<void> {
    if (this.worker) {
      await this.worker.relay.stop();
      await this.worker.client.close();
      this.worker.worker.shutdown();
      await this.worker.running;
      await this.worker.connection.close();
    }
    await this.app.close();
    await this.notifier.close();
    await this.db.destroy();
  }
}

/** Starts a Stack for the test file (beforeAll) and stops it (afterAll); read ctx.stack and ctx.http in tests. */
export function useStack(options: Parameters<typeof Stack.start>[0] = {}): { stack: Stack; http: Http } {
  const ctx = {} as { stack: Stack; http: Http };
  beforeAll(async () => {
    ctx.stack = await Stack.start(options);
    ctx.http = new Http(ctx.stack.baseUrl);
  });
  afterAll(() => ctx.stack?.stop());
  return ctx;
}
