import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, onResponseHookHandler, RouteOptions } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { ErrorFilter } from '../../common/error.filter';
import { requestLevel, requestLine } from '../../common/log-format';
import { WecomCallbackController } from './wecom.controller';
import type { CallbackQuery } from './wecom.service';

/** WeCom's event delivery, as the app's router sees it (the controller's route under the `api` prefix). */
export const CALLBACK_ROUTE = '/api/wecom/callback/:callbackId';

/** The same route for the access-log middleware's `exclude` (Nest adds the global prefix there). */
export const CALLBACK_ROUTE_UNPREFIXED = { path: 'wecom/callback/:callbackId', method: RequestMethod.POST };

/**
 * WeCom's event delivery (`POST`) served by Fastify directly, outside Nest's per-request pipeline: at 1,000 callbacks a
 * second the framework's work around each one (the global guard, a validation pipe per argument, Nest's router and
 * exception zone, and the access-log middleware's child logger and async context) was most of the API's CPU for a
 * callback, several times `receive` itself. None of it does anything here: the route is public (the signature
 * authenticates it) and its arguments are a string, an interface and text, which the pipe passes through unchanged.
 *
 * The route stays the controller's (`WecomCallbackController.receive`): Nest registers it, with its OpenAPI
 * description and its route config (the body read as text, at most 64 KB); only the handler Fastify calls is
 * swapped, for one that calls the same controller method with the same arguments. What still runs around it is
 * Fastify's: the request id, the body guards, the request-duration metric. Errors are answered by the app's
 * ErrorFilter, as for any route; the access line is written here, the same line at the same level the
 * middleware writes for other routes (which skips this one: `CALLBACK_ROUTE_UNPREFIXED` in app.module.ts).
 *
 * Call before the app is initialised (createApp does): Nest registers its routes on init.
 */
export function serveCallbackOnFastify(app: NestFastifyApplication): void {
  const controller = app.get(WecomCallbackController);
  const filter = new ErrorFilter();
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      const { callbackId } = req.params as { callbackId: string };
      await controller.receive(callbackId, req.query as CallbackQuery, req.body, reply);
    } catch (err) {
      filter.answer(err, req, reply);
    }
    return reply;
  };
  const fastify = app.getHttpAdapter().getInstance();
  let served = 0;
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.url !== CALLBACK_ROUTE || route.method !== 'POST') return;
    route.handler = handler;
    route.onResponse = [...asList(route.onResponse), accessLine];
    served++;
  });
  // A route renamed without this file would go back through Nest unseen, and without an access line: refuse to start.
  fastify.addHook('onReady', async () => {
    if (served !== 1) throw new Error(`WeCom's callback route ${CALLBACK_ROUTE} (POST) was registered ${served} times, not once`);
  });
}

const asList = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/** The access line pino-http writes for other routes (log-format.ts), from the root logger, only when its level is on. */
const accessLine: onResponseHookHandler = function (req, reply, done) {
  const log = PinoLogger.root;
  const raw = reply.raw;
  const failed = raw.statusCode >= 500;
  const level = requestLevel(req.raw, raw);
  if (log?.isLevelEnabled(level)) {
    const responseTime = Math.round(reply.elapsedTime);
    Object.assign(req.raw, { id: req.id });
    log[level](
      { req: req.raw, res: raw, responseTime, ...(failed ? { err: new Error(`failed with status code ${raw.statusCode}`) } : {}) },
      failed ? requestLine(req.raw, raw) : requestLine(req.raw, raw, responseTime),
    );
  }
  done();
};
