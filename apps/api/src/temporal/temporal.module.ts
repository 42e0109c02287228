import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { APP_CONFIG, type AppConfig } from '../config/config';

/**
 * The Temporal client. The connection is lazy, so the API starts (and /health/ready says why it
 * is not ready) while Temporal is still coming up.
 */
@Injectable()
export class TemporalService implements OnApplicationShutdown {
  readonly connection: Connection;
  readonly client: Client;
  readonly taskQueue: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = Connection.lazy({ address: config.temporal.address, connectTimeout: '5s' });
    this.client = new Client({ connection: this.connection, namespace: config.temporal.namespace });
    this.taskQueue = config.temporal.taskQueue;
  }

  /** Runs a Temporal call that gives up after `ms` instead of retrying while the server is away. */
  within<T>(ms: number, call: () => Promise<T>): Promise<T> {
    return this.connection.withDeadline(Date.now() + ms, call);
  }

  async ping(): Promise<string> {
    const info = await this.within(3000, () => this.connection.workflowService.getSystemInfo({}));
    return info.serverVersion || 'up';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

@Global()
@Module({ providers: [TemporalService], exports: [TemporalService] })
export class TemporalModule {}
