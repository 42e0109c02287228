/**
 * Errors a caller can act on. Every error carries a stable `code` (clients branch on it,
 * never on the message) and the HTTP status the API answers with.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/**
 * What can use another resource and so keep it from being deleted (TAG_IN_USE names them): a stable code a client
 * words in its reader's language.
 */
export const DEPENDENT_KINDS = ['segment', 'sourceCode', 'computedTag', 'sop', 'responseRule', 'material'] as const;
export type DependentKind = (typeof DEPENDENT_KINDS)[number];

export interface ErrorDetail {
  /** Path of the offending field, e.g. `members[2].email`; empty for the body as a whole. */
  path: string;
  problem: string;
  /** In a refusal because something uses the resource: what kind of thing it is (the path gives its id). */
  kind?: DependentKind;
  /** With `kind`: its name as its owner gave it (a source code's code, a material's title). */
  name?: string;
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
