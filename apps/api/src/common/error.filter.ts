import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { AppError, type ErrorDetail } from '@sop/domain';
import { type CatalogEntry, COMMON_ERRORS } from './errors.catalog';
import { type HttpReply, type HttpRequest, pathOf, requestId } from './http';
import { isPoolExhausted } from './postgres-errors';

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
    this.answer(exception, ctx.getRequest<HttpRequest>(), ctx.getResponse<HttpReply>());
  }

  /** Answers `exception` on `reply`; also called by routes served outside Nest's pipeline (WeCom's callback). */
  answer(exception: unknown, req: HttpRequest, reply: HttpReply): void {
    if (reply.raw.headersSent) {
      // A stream (a CSV export) failed after its first bytes, or its client left: cut the connection, so
      // that no one takes a partial file for a whole one.
      this.logger.warn({ err: exception, requestId: requestId(req) }, 'response stream ended early');
      reply.raw.destroy();
      return;
    }
    const [status, body] = this.toBody(exception, req);
    body.requestId = requestId(req);
    if (body.code === COMMON_ERRORS.DATABASE_BUSY.code) reply.header('Retry-After', '1');
    if (status >= 500) this.logger.error({ err: exception, requestId: body.requestId }, 'unhandled error');
    if (reply.sent) {
      // a streaming handler took the socket over (reply.hijack) and failed before its first byte: answer on it
      reply.raw.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': body.requestId }).end(JSON.stringify(body));
      return;
    }
    void reply.status(status).type('application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown, req: HttpRequest): [number, ErrorBody] {
    if (exception instanceof AppError) {
      return [exception.status, { code: exception.code, message: exception.message, details: exception.details }];
    }
    if (isPoolExhausted(exception)) { // a load peak, not a fault: the client may ask again
      return [503, { code: COMMON_ERRORS.DATABASE_BUSY.code, message: COMMON_ERRORS.DATABASE_BUSY.message }];
    }
    if (exception instanceof ThrottlerException) {
      return [429, { code: COMMON_ERRORS.RATE_LIMITED.code, message: COMMON_ERRORS.RATE_LIMITED.message }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return [404, { code: COMMON_ERRORS.ROUTE_NOT_FOUND.code, message: `No route ${req.method} ${pathOf(req)}.` }];
      }
      const known = HTTP_ERRORS[status] ?? (status >= 500 ? COMMON_ERRORS.INTERNAL : COMMON_ERRORS.BAD_REQUEST);
      // the server's own refusals (a body over the limit, a media type no parser takes) in the catalog's words
      return [status, { code: known.code, message: status === 413 || status === 415 ? known.message : exception.message }];
    }
    return [500, { code: COMMON_ERRORS.INTERNAL.code, message: COMMON_ERRORS.INTERNAL.message }];
  }
}
