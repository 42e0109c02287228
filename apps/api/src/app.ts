import 'reflect-metadata';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { sopDefinitionOpenApiSchema } from '@sop/domain';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { json, raw, static as serveStatic, text, urlencoded, type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { refuseBadText, refuseDeepJson } from './common/body-guards';
import { answerBodyErrors, ErrorFilter } from './common/error.filter';
import { documentRouteErrors, withErrorCatalog, withSchemas } from './common/openapi';
import { validationPipe } from './common/validation';
import type { AppConfig } from './config/config';
import { METRICS, type Metrics } from './modules/metrics/metrics';

/** The console's built files (`vite build` in apps/web, run by the build step of both commands). */
export const WEB_ROOT = resolve(__dirname, '../../web/dist');

/** Builds the whole HTTP application; main.ts listens on it, tests listen on a free port. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // The events API signs the exact bytes sent: its body stays raw and is parsed after the signature checks out.
  app.use('/api/events', raw({ type: () => true, limit: '1mb' }), answerBodyErrors);
  // WeCom posts encrypted XML (whatever content type it names): kept as text, parsed once the signature checks out.
  app.use('/api/wecom/callback', text({ type: () => true, limit: '64kb' }), answerBodyErrors);
  app.use(json({ limit: '1mb', verify: refuseDeepJson }), answerBodyErrors);
  // The public join page of channel codes posts a plain HTML form.
  app.use('/j', urlencoded({ extended: false, limit: '16kb' }), answerBodyErrors);
  app.use(refuseBadText);
  setRoutePrefix(app);
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
  app.use(recordDuration(app.get<Metrics>(METRICS)));
  app.use(webApp());

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
  const app = await NestFactory.create(AppModule.forRoot(config), { preview: true, logger: false, abortOnError: false });
  setRoutePrefix(app);
  const doc = describeApi(app);
  await app.close().catch(() => undefined);
  return doc;
}

/**
 * The console's files, for every path the API does not own (API calls skip the file-system lookups).
 * Hashed assets are cached for a year; any other GET a browser makes for a page gets index.html, so
 * the console's own routes (/contacts/42) load on refresh, and a new release is picked up at once.
 */
function webApp() {
  const files = serveStatic(WEB_ROOT, { index: false, maxAge: '5m' });
  const index = join(WEB_ROOT, 'index.html');
  const apiPath = /^\/(api|r|j|health|metrics|docs)(\/|-json|$)/;
  return (req: Request, res: Response, next: NextFunction) => {
    if (apiPath.test(req.path)) return next();
    if (req.path.startsWith('/assets/')) return sendAsset(req, res, next);
    files(req, res, () => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.accepts('html')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index, (err) => err && next(err));
    });
  };
}

const ASSET_NAME = /^\/assets\/[\w.-]+\.(js|css|svg|png|woff2?)$/;
const ENCODINGS = [['br', '.br'], ['gzip', '.gz']] as const;

/**
 * A built asset: its name carries its content hash, so it is cached for a year; sent brotli- or
 * gzip-compressed from the files the build wrote beside it when the browser takes that encoding.
 */
function sendAsset(req: Request, res: Response, next: NextFunction): void {
  if (!ASSET_NAME.test(req.path)) return next();
  const file = join(WEB_ROOT, req.path);
  const accepted = String(req.headers['accept-encoding'] ?? '');
  const [encoding, suffix] = ENCODINGS.find(([name, ext]) => accepted.includes(name) && existsSync(file + ext)) ?? [null, ''];
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('Vary', 'Accept-Encoding');
  if (encoding) {
    res.setHeader('Content-Encoding', encoding);
    res.type(extname(file));
  }
  res.sendFile(file + suffix, (err) => err && next());
}

function recordDuration({ httpDuration }: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
