import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, raw, static as serveStatic, type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { resolve } from 'node:path';
import { AppModule } from './app.module';
import { answerBodyErrors, ErrorFilter } from './common/error.filter';
import { validationPipe } from './common/validation';
import type { AppConfig } from './config/config';
import { METRICS, type Metrics } from './modules/metrics/metrics';

export const WEB_ROOT = resolve(__dirname, '../../web/public');

/** Builds the whole HTTP application; main.ts listens on it, tests listen on a free port. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // The events API signs the exact bytes sent: its body stays raw and is parsed after the signature checks out.
  app.use('/api/events', raw({ type: () => true, limit: '1mb' }));
  app.use(json({ limit: '1mb' }), answerBodyErrors);
  app.setGlobalPrefix('api', { exclude: ['health', 'health/ready', 'metrics', { path: 'r/:token', method: RequestMethod.GET }] });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter());
  app.use(recordDuration(app.get<Metrics>(METRICS)));
  app.use(webApp());

  const doc = new DocumentBuilder()
    .setTitle('SOP engine API')
    .setDescription(
      'Operations managers define SOPs; the engine schedules reminder tasks for employees; managers review completion. ' +
        'Errors answer { code, message, details?, requestId } with a stable code.',
    )
    .setVersion('0.1.0')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'api-key')
    .build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** The web app's files, for every path the API does not own: API calls skip the file-system lookups. */
function webApp() {
  const files = serveStatic(WEB_ROOT, { index: 'index.html', maxAge: '5m' });
  const apiPath = /^\/(api|r|health|metrics|docs)(\/|-json|$)/;
  return (req: Request, res: Response, next: NextFunction) => (apiPath.test(req.path) ? next() : files(req, res, next));
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
