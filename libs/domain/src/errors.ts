/**
 * Errors a caller can act on. Every error carries a stable `code` (clients branch on it,
 * never on the message) and the HTTP status the API answers with.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

export interface ErrorDetail {
  /** Path of the offending field, e.g. `members[2].email`; empty for the body as a whole. */
  path: string;
  problem: string;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: ErrorStatus,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError(`${what.toUpperCase().replace(/\s+/g, '_')}_NOT_FOUND`, 404, `No ${what} with id ${id}.`);

export const conflict = (code: string, message: string): AppError => new AppError(code, 409, message);

export const validationFailed = (details: ErrorDetail[]): AppError =>
  new AppError(
    'VALIDATION_FAILED',
    400,
    details.map((d) => (d.path ? `${d.path}: ${d.problem}` : d.problem)).join('; '),
    details,
  );
