import { jsonDepthExceeds, jsonTextProblems, MAX_JSON_DEPTH } from '@sop/domain';
import type { NextFunction, Request, Response } from 'express';
import type { ErrorBody } from './error.filter';
import { COMMON_ERRORS } from './errors.catalog';

/**
 * The one place request bodies and query strings are held to what Postgres and our code can take,
 * before any DTO, pipe or service sees them (docs/security.md):
 * - nesting deeper than MAX_JSON_DEPTH is refused from the raw bytes, before JSON.parse;
 * - a NUL character or a lone surrogate in any string or key, and the keys `__proto__`, `constructor`
 *   and `prototype`, are refused with the JSON path of each.
 */

/** Error type the body parser passes on when `verify` throws (answered by answerBodyErrors). */
export const TOO_DEEP = 'json.too.deep';

/** body-parser's `verify`: runs on the raw (decompressed) bytes before they are parsed. */
export function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer): void {
  if (jsonDepthExceeds(buf)) throw Object.assign(new Error(`nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`), { type: TOO_DEEP });
}

/** Express middleware after the body parsers: text Postgres cannot store and reserved keys answer 400 with their paths. */
export function refuseBadText(req: Request & { id?: string }, res: Response, next: NextFunction): void {
  const body = req.body as unknown;
  const problems = [
    ...(body && typeof body === 'object' && !Buffer.isBuffer(body) ? jsonTextProblems(body) : []),
    ...jsonTextProblems(req.query),
  ];
  if (!problems.length) return next();
  const answer: ErrorBody = {
    code: COMMON_ERRORS.VALIDATION_FAILED.code,
    message: problems.map((d) => (d.path ? `${d.path}: ${d.problem}` : d.problem)).join('; '),
    details: problems,
    requestId: String(req.id ?? ''),
  };
  res.status(400).json(answer);
}
