import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Level, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from '@sop/domain';
import { redactTicket } from './log-redaction';


/** "GET /api/inbox/tasks?list=today 200 4ms": the access line, the same in JSON and on a developer's console. */
export const requestLine = (req: IncomingMessage, res: ServerResponse, ms?: number) =>
  `${req.method} ${redactTicket({ url: req.url }).url} ${res.statusCode}${ms === undefined ? '' : ` ${Math.round(ms)}ms`}`;

/**
 * What the access log keeps of a request: no header but the user agent, so tokens, API keys, cookies and the
 * sign-in's redirect never reach a log line. Serializing every request's headers (and redacting them) was a fair
 * share of a cheap request's own cost. Used unwrapped: it gets the raw request.
 */
export const requestForLog = (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
  id: req.id, method: req.method, url: redactTicket({ url: req.originalUrl ?? req.url }).url,
  remoteAddress: req.socket?.remoteAddress, userAgent: req.headers?.['user-agent'],
});

/** What the access log keeps of an answer: its status (the line says it too), never its headers. */
export const responseForLog = (res: ServerResponse) => ({ statusCode: res.statusCode });

/** Refusals are warnings and failures errors, so they stand out among the requests that went well. */
export function requestLevel(_req: IncomingMessage, res: ServerResponse, err?: Error): Level {
  if (err || res.statusCode >= 500) return 'error';
  return res.statusCode >= 400 ? 'warn' : 'info';
}

/**
 * Where log lines go: JSON on stdout (production, log shippers) or, for people reading the local run's
 * console, one short coloured line each: time, level, message, and no request or response headers.
 */
export function logStream(format: LogFormat, destination?: NodeJS.WritableStream): DestinationStream {
  if (format === 'json') return pino.destination(1);
  return pretty({
    colorize: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,req,res,reqId,responseTime,context',
    ...(destination ? { destination, sync: true } : {}),
  });
}

/** Nest's start-up inventory (every module and route, some 170 lines): kept in JSON logs, left out for people. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

export function quietBoot(format: LogFormat): Pick<LoggerOptions, 'hooks'> {
  if (format === 'json') return {};
  return {
    hooks: {
      logMethod(args, method) {
        const first = args[0] as unknown;
        const context = first && typeof first === 'object' ? (first as { context?: unknown }).context : undefined;
        if (typeof context === 'string' && BOOT_CONTEXTS.has(context)) return;
        method.apply(this, args);
      },
    },
  };
}
