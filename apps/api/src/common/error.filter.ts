import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { AppError, type ErrorDetail } from '@sop/domain';
import type { NextFunction, Request, Response } from 'express';

export interface ErrorBody {
  code: string;
  message: string;
  details?: ErrorDetail[];
  requestId?: string;
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
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
      return [429, { code: 'RATE_LIMITED', message: 'Too many attempts: wait a minute and try again.' }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return [404, { code: 'ROUTE_NOT_FOUND', message: `No route ${req.method} ${req.path}.` }];
      }
      return [status, { code: HTTP_CODES[status] ?? `HTTP_${status}`, message: exception.message }];
    }
    return [500, { code: 'INTERNAL', message: 'Something went wrong on our side; the request id helps us find it.' }];
  }
}

const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'MALFORMED_JSON', 'The request body is not valid JSON'],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MB'],
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'UNSUPPORTED_ENCODING', 'The request body charset is not supported'],
};

/** Express error middleware for the JSON body parser, which fails before Nest's filters run. */
export function answerBodyErrors(err: { type?: string; message?: string }, req: Request & { id?: string }, res: Response, next: NextFunction): void {
  const known = err?.type ? BODY_ERRORS[err.type] : undefined;
  if (!known) return next(err);
  const [status, code, message] = known;
  const body: ErrorBody = { code, message: `${message}: ${err.message}`, requestId: String(req.id ?? '') };
  res.status(status).json(body);
}
