import type { AppError } from '@sop/domain';
import { type CatalogEntry, fail } from './errors.catalog';

/** Postgres error codes the services translate into domain errors. */
export const PG_UNIQUE_VIOLATION = '23505';
/** statement_timeout (or a cancel) stopped the statement. */
export const PG_QUERY_CANCELED = '57014';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

/** A write that refers to a row that is gone (deleted between the check and the write, by another request). */
export function isForeignKeyViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  return (e?.code ?? e?.driverError?.code) === PG_FOREIGN_KEY_VIOLATION && (e?.constraint ?? e?.driverError?.constraint) === constraint;
}

/** The connection pool had no free connection within its timeout (pg-pool's own error: the statement never ran). */
export function isPoolExhausted(err: unknown): boolean {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect';
}

export function isQueryCanceled(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return (e?.code ?? e?.driverError?.code) === PG_QUERY_CANCELED;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === PG_UNIQUE_VIOLATION && (!constraint || name === constraint);
}

/** A 409 for a value that must be unique, naming the field that holds it. */
export const taken = (error: CatalogEntry<string, { status: 409; message: string }>, message: string, path: string): AppError =>
  fail(error, message, [{ path, problem: 'is already used' }]);

/**
 * Runs a write and turns a violation of the unique `constraint` into the caller's domain error:
 * the database, not a racy read beforehand, decides whether a name or id is taken.
 */
export async function unlessTaken<T>(constraint: string, error: () => AppError, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err, constraint)) throw error();
    throw err;
  }
}
