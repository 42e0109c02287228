import { AppError } from '@sop/domain';

/** Postgres error codes the services translate into domain errors. */
export const PG_UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === PG_UNIQUE_VIOLATION && (!constraint || name === constraint);
}

/** A 409 for a value that must be unique, naming the field that holds it. */
export const taken = (code: string, message: string, path: string) =>
  new AppError(code, 409, message, [{ path, problem: 'is already used' }]);

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
