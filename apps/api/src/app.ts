import 'reflect-metadata';
import fastifyStatic from '@fastify/static';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { sopDefinitionOpenApiSchema } from '@sop/domain';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { Logger } from 'nestjs-pino';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { registerBodyParsers } from './common/body-guards';
import { ErrorFilter } from './common/error.filter';
import { newRequestId, pathOf } from './common/http';
import { documentRouteErrors, withErrorCatalog, withSchemas } from './common/openapi';
import { validationPipe } from './common/validation';
import type { AppConfig } from './config/config';
import { METRICS, type Metrics } from './modules/metrics/metrics';
import { serveCallbackOnFastify } from './modules/wecom/callback-route';

/** The console's built files (`vite build` in apps/web, run by the build step of both commands). */
export const WEB_ROOT = resolve(__dirname, '../../web/dist');

/** Bodies above this answer 413 (routes taking text or forms keep to less: common/body-guards.ts). */
const BODY_LIMIT = 1024 * 1024;

/**
 * The HTTP server: Fastify under Nest. Express's per-request work (its router, body parsers and response helpers)
 * was a third of the API's own time on cheap requests such as inbox lists and WeCom's callbacks.
 */
function httpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: config.trustProxy,
    genReqId: newRequestId,
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    // as Express did: /api/tasks/ is /api/tasks; path ids longer than Fastify's 100 characters reach their validation
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
  });
}

/** Builds the whole HTTP application; main.ts listens on it, tests listen on a free port. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), httpAdapter(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const server = app.getHttpAdapter().getInstance();
  server.addHook('onRequest', async (req, reply) => void reply.header('x-request-id', req.id));
  registerBodyParsers(server);
  recordDurations(server, app.get<Metrics>(METRICS));
  setRoutePrefix(app);
  serveCallbackOnFastify(app); // WeCom's callbacks outside Nest's per-request pipeline (before init registers the routes)
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
  await serveWebApp(app);

  SwaggerModule.setup('docs', app, describeApi(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** Every route under /api except the probes, the metrics, tracked links and the join pages of channel codes. */
function setRoutePrefix(app: INestApplication): void {
  app.setGlobalPrefix('api', {
    exclude: ['health', 'health/ready', 'metrics', { path: 'r/:token', method: RequestMethod.GET }, { path: 'j/:id', method: RequestMethod.ALL }],
  });
}

/** The OpenAPI document of the app's routes (served at /docs-json; the console's client is generated from it). */
function describeApi(app: INestApplication): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('SOP engine API')
    .setDescription(
      'Operations managers define SOPs; the engine schedules reminder tasks for employees; managers review completion. ' +
        'Errors answer { code, message, details?, requestId } (ErrorBodyDto) with a stable code: each operation lists the codes it may ' +
        'answer per status (x-error-codes); the ErrorCode schema lists them all, with their statuses and meaning (x-error-catalog).',
    )
    .setVersion('0.1.0')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'api-key')
    .build();
  documentRouteErrors(app);
  return withSchemas(withErrorCatalog(SwaggerModule.createDocument(app, doc)), { SopDefinition: sopDefinitionOpenApiSchema() });
}

/**
 * The same document without a database or Temporal: Nest's preview mode wires the modules without
 * starting them, so `npm run api:types` needs no running system.
 */
export async function openApiDocument(config: AppConfig): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(config), httpAdapter(config), { preview: true, logger: false, abortOnError: false });
  setRoutePrefix(app);
  const doc = describeApi(app);
  await app.close().catch(() => undefined);
  return doc;
}

/**
 * The console's files, for every GET the API does not own. Built assets carry their content hash in their names:
 * cached for a year, sent brotli- or gzip-compressed from the files the build wrote beside them when the browser
 * takes that encoding. Any other GET a browser makes for a page gets index.html, so the console's own routes
 * (/contacts/42) load on refresh, and a new release is picked up at once.
 */
async function serveWebApp(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(WEB_ROOT, 'assets'), prefix: '/assets/', preCompressed: true, maxAge: '365d', immutable: true, index: false,
    allowedPath: (path) => ASSET_NAME.test(path), decorateReply: false,
  });
  // reply.sendFile for the console's other files (favicon, index.html)
  await app.register(fastifyStatic, { root: WEB_ROOT, serve: false, maxAge: '5m' });
  const apiPath = /^\/(api|r|j|health|metrics|docs)(\/|-json|$)/;
  app.getHttpAdapter().getInstance().get('/*', (req, reply) => {
    const path = pathOf(req);
    if (apiPath.test(path)) return reply.callNotFound();
    const file = join(WEB_ROOT, safeDecode(path));
    if (file.startsWith(WEB_ROOT + '/') && isFile(file)) return reply.sendFile(file.slice(WEB_ROOT.length + 1));
    if (!/text\/html|\*\/\*/.test(String(req.headers.accept ?? '*/*'))) return reply.callNotFound();
    return reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}

const ASSET_NAME = /^\/[\w.-]+\.(js|css|svg|png|woff2?)$/;

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Every answer's duration by route (the route's pattern, "unmatched" for none), for /metrics. */
function recordDurations(server: FastifyInstance, { httpDuration }: Metrics): void {
  server.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url && req.routeOptions.url !== '/*' ? req.routeOptions.url : 'unmatched';
    httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
