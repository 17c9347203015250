import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.connections';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { JobMetrics } from './job-metrics';
import { JobQueue } from './job-queue';
import { BullMqJobQueue } from './job-queue.bullmq';
import { InProcessJobQueue } from './job-queue.in-process';

@Global()
@Module({
  providers: [
    {
      provide: JobQueue,
      inject: [AppConfig, RedisConnections, MetricsRegistry],
      useFactory: (config: AppConfig, redis: RedisConnections, metrics: MetricsRegistry) => {
        const jobMetrics = new JobMetrics(metrics);
        return redis.enabled
          ? new BullMqJobQueue(config, redis, jobMetrics)
          : new InProcessJobQueue(config, jobMetrics);
      },
    },
  ],
  exports: [JobQueue],
})
export class QueueModule {}
