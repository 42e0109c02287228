import type { QueryRunner } from 'typeorm';

/** What we use of a node-postgres client; a COPY stream submitted as a query is returned as given. */
export interface PgClient {
  query(sql: string): Promise<unknown>;
  query<S extends object>(copyStream: S): S;
  on(event: 'notification', listener: (msg: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', listener: (err?: Error) => void): void;
  removeAllListeners(event: string): void;
}

/** The node-postgres client under a connected query runner: for COPY streams and LISTEN, which TypeORM does not offer. */
export const pgClient = (qr: QueryRunner): PgClient => (qr as unknown as { databaseConnection: PgClient }).databaseConnection;

/**
 * Gives a connection back after a failure in the middle of a COPY or a transaction: the pool drops it
 * instead of handing out a client in an unknown state, and its socket is destroyed, so Postgres rolls back
 * and drops its TEMP tables at once. (A ROLLBACK, or the pool's polite Terminate, would queue behind a COPY
 * that no one reads any more: the server stays blocked writing into a full socket, holding the session.)
 */
export async function discardConnection(qr: QueryRunner, failure: unknown): Promise<void> {
  const socket = (qr as unknown as { databaseConnection?: { connection?: { stream?: { destroy(): void } } } }).databaseConnection?.connection?.stream;
  // TypeORM's release() cannot say "discard"; its Postgres runner passes this error on to the pool, which then drops the client.
  const runner = qr as QueryRunner & { releasePostgresConnection?(err: Error): Promise<void> };
  const err = failure instanceof Error ? failure : new Error(String(failure));
  await (runner.releasePostgresConnection ? runner.releasePostgresConnection(err) : runner.release()).catch(() => undefined);
  socket?.destroy();
}
