import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The request and the reply of the HTTP server (Fastify) as handlers, guards and filters see them. */
export type HttpRequest = FastifyRequest;
export type HttpReply = FastifyReply;

/**
 * How a route takes its body (body-guards.ts parses accordingly); a route says nothing for JSON.
 * - `raw`: the exact bytes, whatever the Content-Type (a signature covers them);
 * - `text`: the bytes as a string, whatever the Content-Type, at most 64 KB (WeCom's encrypted XML);
 * - `form`: an HTML form (`application/x-www-form-urlencoded`), at most 16 KB;
 * - `stream`: a `text/csv` body left unread for the handler to stream.
 */
export type BodyKind = 'json' | 'raw' | 'text' | 'form' | 'stream';

export const BodyAs = (kind: BodyKind) => RouteConfig({ body: kind });

export const bodyKindOf = (req: FastifyRequest): BodyKind => (req.routeOptions.config as { body?: BodyKind } | undefined)?.body ?? 'json';

/** A request's id: the caller's X-Request-Id when usable, so one id follows a request across services. */
export function newRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
}

/** The request's id (newRequestId; the access log and error bodies carry it). */
export const requestId = (req: FastifyRequest): string => req.id;

/** The path of the request without its query string. */
export const pathOf = (req: FastifyRequest): string => req.url.split('?', 1)[0];

/** One request header's value (the first, when sent more than once). */
export const headerOf = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};
