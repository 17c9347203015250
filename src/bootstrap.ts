import 'reflect-metadata';
import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './common/config/app-config';
import { HttpErrorFilter } from './common/errors/http-exception.filter';
import { HttpMetricsMiddleware } from './common/metrics/http-metrics.middleware';
import { errorCounter, MetricsRegistry } from './common/metrics/metrics.registry';
import { LifecycleState } from './common/health/lifecycle.state';
import { ParleyIoAdapter } from './common/realtime/parley-io.adapter';
import type { Server } from 'node:http';
import { JobQueue } from './common/queue/job-queue';
import { RealtimeEmitter } from './common/realtime/realtime.emitter';
import { RealtimeGateway } from './common/realtime/realtime.gateway';
import { NulCharacterPipe } from './common/validation/text-safety';
import { createValidationPipe } from './common/validation/validate';
import { serveWebClient } from './common/web-client/web-client';

export const API_PREFIX = 'api/v1';

/** Builds the HTTP + Socket.IO application; used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Every request is timed, under the prefix or not, found or not.
  const httpMetrics = app.get(HttpMetricsMiddleware);
  app.use(httpMetrics.use.bind(httpMetrics));
  app.useBodyParser('json', { limit: '1mb' });
  // X-Forwarded-For counts only when it comes from a configured proxy (TRUST_PROXY).
  app.set('trust proxy', config.http.trustProxy.length ? config.http.trustProxy : false);
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
  app.useGlobalPipes(new NulCharacterPipe(), createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(errorCounter(app.get(MetricsRegistry))));
  if (config.runsApi) {
    app.useWebSocketAdapter(new ParleyIoAdapter(app));
    serveWebClient(app, config.webDir);
  }

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

/**
 * Graceful shutdown: refuse new connections and report not-ready, tell connected clients
 * to reconnect elsewhere, let in-flight socket events, message writes and jobs finish
 * (bounded by graceMs), then close; closing drops the sockets, which reconnect and sync.
 */
export async function drainAndClose(app: INestApplication, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  const left = () => Math.max(0, deadline - Date.now());
  app.get(LifecycleState).startDraining();
  (app.getHttpServer() as Server).close();
  app.get(RealtimeEmitter).broadcastLocal('server:draining', { reconnectInMs: 0 });
  await optional(app, RealtimeGateway)?.whenIdle(left());
  await withTimeout(app.get(LifecycleState).finishPendingWork(), left());
  await withTimeout(app.get(JobQueue).drain(), left());
  await app.close();
}

/** A provider that only some roles have (the gateway is not part of a worker). */
function optional<T>(app: INestApplication, token: new (...args: never[]) => T): T | undefined {
  try {
    return app.get(token, { strict: false });
  } catch {
    return undefined;
  }
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  return Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
}
