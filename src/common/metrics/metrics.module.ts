import { Global, Module } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

/** The HTTP middleware is mounted by the bootstrap on the whole Express app, prefix or not. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, HttpMetricsMiddleware],
  exports: [MetricsRegistry, HttpMetricsMiddleware],
})
export class MetricsModule {}
