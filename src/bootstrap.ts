import 'reflect-metadata';
import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './common/config/app-config';
import { HttpErrorFilter } from './common/errors/http-exception.filter';
import { LifecycleState } from './common/health/lifecycle.state';
import { ParleyIoAdapter } from './common/realtime/parley-io.adapter';
import { RealtimeEmitter } from './common/realtime/realtime.emitter';
import { createValidationPipe } from './common/validation/validate';

export const API_PREFIX = 'api/v1';

/** Builds the HTTP + Socket.IO application; used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: '1mb' });
  app.set('trust proxy', true);
  app.disable('x-powered-by');
  app.enableCors({
    origin: config.http.corsOrigin === '*' ? true : config.http.corsOrigin.split(','),
  });
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  app.useWebSocketAdapter(new ParleyIoAdapter(app));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Parley')
      .setDescription(
        'Self-hostable messaging backend. REST under /api/v1; realtime over Socket.IO (see docs/protocol.md).',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** Stops taking new work, tells clients to reconnect elsewhere, then closes. */
export async function drainAndClose(app: INestApplication, graceMs: number): Promise<void> {
  app.get(LifecycleState).startDraining();
  const emitter = app.get(RealtimeEmitter);
  emitter.broadcastLocal('server:draining', { reconnectInMs: 0 });
  await new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, 250)));
  await app.close();
}
