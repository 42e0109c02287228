import type { DataSource } from 'typeorm';
import { waitUntil } from './poll';

/** Runs one statement in the session. */
export type Sql = (sql: string, params?: unknown[]) => Promise<any>;

/**
 * A Postgres session of its own, its transaction begun, for interleaving with the code under test (`COMMIT` or
 * `ROLLBACK` through `sql` ends it early); rolled back if still open, and released, after `run`.
 */
export async function inSession<T>(db: DataSource, run: (sql: Sql, pid: number) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [{ pid }] = await runner.query(`SELECT pg_backend_pid() AS pid`);
    await runner.startTransaction();
    return await run((sql, params) => runner.query(sql, params), pid);
  } finally {
    await runner.query('ROLLBACK'); // a no-op (a warning) once the transaction has ended
    await runner.release();
  }
}

/** Waits until another session waits for a lock that session `pid` holds. */
export async function heldUp(db: DataSource, pid: number, what: string): Promise<void> {
  await waitUntil(async () => (await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]))[0].n,
    (n: number) => n > 0, `${what} to wait for session ${pid}`, 30_000, 20);
}
