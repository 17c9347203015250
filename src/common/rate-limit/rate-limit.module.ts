import { Global, Module } from '@nestjs/common';
import { RedisConnections } from '../redis/redis.connections';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { CountedRateLimiter } from './rate-limiter.counted';
import { RateLimiter } from './rate-limiter';
import { MemoryRateLimiter } from './rate-limiter.memory';
import { RedisRateLimiter } from './rate-limiter.redis';

@Global()
@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [RedisConnections, MetricsRegistry],
      useFactory: (redis: RedisConnections, metrics: MetricsRegistry): RateLimiter =>
        new CountedRateLimiter(
          redis.enabled ? new RedisRateLimiter(redis) : new MemoryRateLimiter(),
          metrics,
        ),
    },
  ],
  exports: [RateLimiter],
})
export class RateLimitModule {}
