import { AppError, type ErrorDetail, type ErrorStatus, notFound as domainNotFound } from '@sop/domain';

/**
 * The error catalog: every code the API answers is listed once, with its HTTP status and what it
 * means in words a person can act on. Codes shared by many modules live here; each module lists
 * its own in `<module>.errors.ts`. Services throw through `fail()`, which takes an entry of a
 * catalog, so a code cannot be thrown without being listed. The console shows each code in
 * Chinese and English (apps/web/src/i18n/error-texts.ts); the OpenAPI document lists them as the
 * ErrorCode enum and per operation.
 */

/** Statuses an error answers with: the domain's, and 405 and 500 from the HTTP layer. */
export type ApiErrorStatus = ErrorStatus | 405 | 500;

export interface ErrorSpec {
  /** Several when one code answers differently by where the problem is (404 for the path's id, 422 for a field naming it). */
  readonly status: ApiErrorStatus | readonly ApiErrorStatus[];
  /** What it means; what the answer says unless the thrower gives a more precise message. */
  readonly message: string;
}

export type CatalogEntry<C extends string = string, S extends ErrorSpec = ErrorSpec> = S & { readonly code: C };
export type Catalog<T extends Record<string, ErrorSpec>> = { readonly [C in keyof T & string]: CatalogEntry<C, T[C]> };

/** A catalog: each entry also carries its code (its key). */
export function defineErrors<const T extends Record<string, ErrorSpec>>(specs: T): Catalog<T> {
  return Object.fromEntries(Object.entries(specs).map(([code, spec]) => [code, { ...spec, code }])) as Catalog<T>;
}

export const statusesOf = (error: ErrorSpec): readonly ApiErrorStatus[] => (typeof error.status === 'number' ? [error.status] : error.status);

/** An entry a service may throw (500 and 405 come from the HTTP layer only). */
type Throwable = CatalogEntry<string, { status: ErrorStatus | readonly ErrorStatus[]; message: string }>;
/** An entry with several statuses needs the one meant; a single-status entry takes none. */
type StatusArg<E extends ErrorSpec> = E['status'] extends readonly (infer S)[] ? [status: S] : [];

/** The AppError of a catalog entry: its code and status, its message unless `message` says more. */
export function fail<E extends Throwable>(error: E, message?: string, details?: ErrorDetail[], ...[status]: StatusArg<E>): AppError {
  return new AppError(error.code, (status ?? error.status) as ErrorStatus, message ?? error.message, details);
}

/** The same about one field: "path: problem" as the message, and that one detail. */
export function failAt<E extends Throwable>(error: E, path: string, problem: string, ...status: StatusArg<E>): AppError {
  return fail(error, `${path}: ${problem}`, [{ path, problem }], ...status);
}

export const COMMON_ERRORS = defineErrors({
  // the request
  VALIDATION_FAILED: { status: [400, 422], message: 'Some fields are missing or invalid; details name each one.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  MALFORMED_BODY: { status: 400, message: 'The request body could not be read: its bytes do not match its Content-Encoding (gzip, deflate, br).' },
  BAD_REQUEST: { status: 400, message: 'The request cannot be understood.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than this route takes (1 MB, unless its body says less).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body has a Content-Type this route does not take.' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'The request body encoding or charset is not supported: send UTF-8.' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route: check the method and the path.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This route does not take this method.' },
  // who is calling
  UNAUTHENTICATED: { status: 401, message: 'Log in, or send a valid API key, and try again.' },
  ROLE_FORBIDDEN: { status: 403, message: 'Your role may not do this; an admin can change roles.' },
  FORBIDDEN: { status: 403, message: 'This is not allowed.' },
  RATE_LIMITED: { status: 429, message: 'Too many attempts: wait a minute and try again.' },
  // our side
  INTERNAL: { status: 500, message: 'Something went wrong on our side; the request id helps us find it.' },
  TEMPORAL_UNAVAILABLE: { status: 503, message: 'The workflow service could not be reached; nothing was changed. Try again shortly.' },
  DATABASE_BUSY: { status: 503, message: 'The database is busy: no connection was free in time. Try again in a moment.' },
  // what a request names does not exist (in the caller's organization): 404 for the path's id, 422 for a field of the body
  API_KEY_NOT_FOUND: { status: 404, message: 'No API key with this id.' },
  COMPUTED_TAG_RULE_NOT_FOUND: { status: 404, message: 'No computed tag rule with this id.' },
  CONTACT_NOT_FOUND: { status: [404, 422], message: 'No contact with this id.' },
  GROUP_NOT_FOUND: { status: 404, message: 'No group chat with this id.' },
  HANDOVER_NOT_FOUND: { status: 404, message: 'No handover with this id.' },
  IMPORT_NOT_FOUND: { status: 404, message: 'No import with this id.' },
  LEAVE_NOT_FOUND: { status: 404, message: 'No leave with this id for this user.' },
  LINK_NOT_FOUND: { status: 404, message: 'This link is unknown or no longer valid.' },
  NOTIFICATION_NOT_FOUND: { status: 404, message: 'No notification of yours with this id.' },
  NOTIFICATION_TARGET_NOT_FOUND: { status: 404, message: 'No notification target of yours with this id.' },
  OWNER_NOT_FOUND: { status: 422, message: 'The owner must be an active user of your organization.' },
  RESPONSE_RULE_NOT_FOUND: { status: 404, message: 'No response rule with this id.' },
  ROUND_TRIP_NOT_FOUND: { status: 404, message: 'No round trip with this id.' },
  SEGMENT_NOT_FOUND: { status: 404, message: 'No segment with this id.' },
  SOP_NOT_FOUND: { status: 404, message: 'No SOP with this id.' },
  SOP_VERSION_NOT_FOUND: { status: 404, message: 'This SOP has no published version with this number.' },
  SOURCE_CODE_NOT_FOUND: { status: [404, 422], message: 'No source code with this id or code.' },
  TAG_GROUP_NOT_FOUND: { status: [404, 422], message: 'No tag group with this id.' },
  TAG_NOT_FOUND: { status: [404, 422], message: 'No tag with this id.' },
  TASK_NOT_FOUND: { status: 404, message: 'No task you can see with this id.' },
  TEAM_NOT_FOUND: { status: [404, 422], message: 'No team with this id.' },
  USER_NOT_FOUND: { status: [404, 422], message: 'No user with this id.' },
});

type Snake<S extends string> = S extends `${infer A} ${infer B}` ? `${A}_${Snake<B>}` : S;
/** The code `notFound(what, id)` answers: 'tag group' gives TAG_GROUP_NOT_FOUND. */
export type NotFoundCode<W extends string> = `${Uppercase<Snake<W>>}_NOT_FOUND`;
/** What may be reported as not found: a word whose code the catalog lists. */
export type NotFoundSubject<W extends string> = NotFoundCode<W> extends keyof typeof COMMON_ERRORS ? W : never;

/** A 404 naming what was not found; `what` is checked against the catalog. */
export const notFound = <W extends string>(what: NotFoundSubject<W>, id: string): AppError => domainNotFound(what, id);
