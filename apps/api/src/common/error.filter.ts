import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { AppError, type ErrorDetail } from '@sop/domain';
import type { NextFunction, Request, Response } from 'express';
import { TOO_DEEP } from './body-guards';
import { type CatalogEntry, COMMON_ERRORS } from './errors.catalog';

export interface ErrorBody {
  code: string;
  message: string;
  details?: ErrorDetail[];
  requestId?: string;
}

/** Codes of the HTTP layer's own exceptions (a 404 there is an unknown route); other statuses: BAD_REQUEST or INTERNAL. */
const HTTP_ERRORS: Record<number, CatalogEntry> = {
  400: COMMON_ERRORS.BAD_REQUEST,
  401: COMMON_ERRORS.UNAUTHENTICATED,
  403: COMMON_ERRORS.FORBIDDEN,
  405: COMMON_ERRORS.METHOD_NOT_ALLOWED,
  413: COMMON_ERRORS.PAYLOAD_TOO_LARGE,
  415: COMMON_ERRORS.UNSUPPORTED_MEDIA_TYPE,
};

/** The one place errors become HTTP answers: a status, a stable code and a readable message. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    if (res.headersSent) {
      // A stream (a CSV export) failed after its first bytes, or its client left: cut the connection, so
      // that no one takes a partial file for a whole one.
      this.logger.warn({ err: exception, requestId: String(req.id ?? '') }, 'response stream ended early');
      res.destroy();
      return;
    }
    const [status, body] = this.toBody(exception, req);
    body.requestId = String(req.id ?? '');
    if (status >= 500) this.logger.error({ err: exception, requestId: body.requestId }, 'unhandled error');
    res.status(status).json(body);
  }

  private toBody(exception: unknown, req: Request): [number, ErrorBody] {
    if (exception instanceof AppError) {
      return [exception.status, { code: exception.code, message: exception.message, details: exception.details }];
    }
    if (exception instanceof ThrottlerException) {
      return [429, { code: COMMON_ERRORS.RATE_LIMITED.code, message: COMMON_ERRORS.RATE_LIMITED.message }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return [404, { code: COMMON_ERRORS.ROUTE_NOT_FOUND.code, message: `No route ${req.method} ${req.path}.` }];
      }
      const known = HTTP_ERRORS[status] ?? (status >= 500 ? COMMON_ERRORS.INTERNAL : COMMON_ERRORS.BAD_REQUEST);
      return [status, { code: known.code, message: exception.message }];
    }
    return [500, { code: COMMON_ERRORS.INTERNAL.code, message: COMMON_ERRORS.INTERNAL.message }];
  }
}

const BODY_ERRORS: Record<string, [CatalogEntry<string, { status: 400 | 413 | 415; message: string }>, string]> = {
  'entity.parse.failed': [COMMON_ERRORS.MALFORMED_JSON, 'The request body is not valid JSON'],
  'entity.too.large': [COMMON_ERRORS.PAYLOAD_TOO_LARGE, 'The request body is larger than 1 MB'],
  'encoding.unsupported': [COMMON_ERRORS.UNSUPPORTED_ENCODING, 'The request body encoding is not supported'],
  'charset.unsupported': [COMMON_ERRORS.UNSUPPORTED_ENCODING, 'The request body charset is not supported'],
};

/**
 * Express error middleware for the body parsers, which fail before Nest's filters run: a body too
 * deep (body-guards.ts), a body that is not what its Content-Encoding says (bad gzip), and the
 * parser's own refusals. Any other error goes on to Nest.
 */
export function answerBodyErrors(
  err: { type?: string; message?: string; status?: number; code?: string }, req: Request & { id?: string }, res: Response, next: NextFunction,
): void {
  const requestId = String(req.id ?? '');
  if (err?.type === TOO_DEEP) {
    const body: ErrorBody = { code: COMMON_ERRORS.VALIDATION_FAILED.code, message: `The request body ${err.message}`, details: [{ path: '', problem: String(err.message) }], requestId };
    res.status(400).json(body);
    return;
  }
  const known = err?.type ? BODY_ERRORS[err.type] : undefined;
  if (!known) {
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR) and a body cut short: the bytes could not be read as sent
    if (err?.status === 400 && (String(err.code ?? '').startsWith('Z_') || err.type === 'request.aborted' || err.type === 'request.size.invalid')) {
      const body: ErrorBody = { code: COMMON_ERRORS.MALFORMED_BODY.code, message: `${COMMON_ERRORS.MALFORMED_BODY.message} (${err.message})`, requestId };
      res.status(400).json(body);
      return;
    }
    return next(err);
  }
  const [error, message] = known;
  const body: ErrorBody = { code: error.code, message: `${message}: ${err.message}`, requestId };
  res.status(error.status).json(body);
}
