import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.connections';
import { JobQueue } from './job-queue';
import { BullMqJobQueue } from './job-queue.bullmq';
import { InProcessJobQueue } from './job-queue.in-process';

@Global()
@Module({
  providers: [
    {
      provide: JobQueue,
      inject: [AppConfig, RedisConnections],
      useFactory: (config: AppConfig, redis: RedisConnections): JobQueue =>
        redis.enabled ? new BullMqJobQueue(config, redis) : new InProcessJobQueue(config),
    },
  ],
  exports: [JobQueue],
})
export class QueueModule {}
