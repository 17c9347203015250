import { Module } from '@nestjs/common';
import { AppConfig } from '../../common/config/app-config';
import { RedisConnections } from '../../common/redis/redis.connections';
import { ChatModule } from '../chat/chat.module';
import { UsersModule } from '../users/users.module';
import { PresenceMemoryStore } from './adapters/memory/presence.memory.store';
import { PresenceRedisStore } from './adapters/redis/presence.redis.store';
import { PresenceStore } from './ports/presence.store';
import { PresenceController } from './presence.controller';
import { PresenceSocketHandlers } from './presence.socket-handlers';
import { PresenceService } from './presence.service';
import { TypingService } from './typing.service';

@Module({
  imports: [UsersModule, ChatModule],
  controllers: [PresenceController],
  providers: [
    PresenceService,
    TypingService,
    PresenceSocketHandlers,
    {
      provide: PresenceStore,
      inject: [RedisConnections, AppConfig],
      useFactory: (redis: RedisConnections, config: AppConfig): PresenceStore =>
        redis.enabled
          ? new PresenceRedisStore(redis, {
              ttlMs: config.presence.ttlMs,
              keyPrefix: `${config.redis.keyPrefix}:presence:`,
            })
          : new PresenceMemoryStore({ ttlMs: config.presence.ttlMs }),
    },
  ],
  exports: [PresenceService],
})
export class PresenceModule {}
