import { Global, Module } from '@nestjs/common';
import { RedisConnections } from '../redis/redis.connections';
import { RateLimiter } from './rate-limiter';
import { MemoryRateLimiter } from './rate-limiter.memory';
import { RedisRateLimiter } from './rate-limiter.redis';

@Global()
@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections): RateLimiter =>
        redis.enabled ? new RedisRateLimiter(redis) : new MemoryRateLimiter(),
    },
  ],
  exports: [RateLimiter],
})
export class RateLimitModule {}
