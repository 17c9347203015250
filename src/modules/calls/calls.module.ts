import { Module } from '@nestjs/common';
import { AppConfig } from '../../common/config/app-config';
import { RedisConnections } from '../../common/redis/redis.connections';
import { AuthModule } from '../auth/auth.module';
import { ChatModule } from '../chat/chat.module';
import { UsersModule } from '../users/users.module';
import { CallStateMemoryStore } from './adapters/memory/call-state.memory.store';
import { CallHistoryPostgresRepository } from './adapters/postgres/call-history.postgres.repository';
import { CallStateRedisStore } from './adapters/redis/call-state.redis.store';
import { CallsController } from './calls.controller';
import { CallsSocketHandlers } from './calls.socket-handlers';
import { CallsService } from './calls.service';
import { CallHistoryRepository } from './ports/call-history.repository';
import { CallStateStore } from './ports/call-state.store';

@Module({
  imports: [AuthModule, UsersModule, ChatModule],
  controllers: [CallsController],
  providers: [
    CallsService,
    CallsSocketHandlers,
    { provide: CallHistoryRepository, useClass: CallHistoryPostgresRepository },
    {
      provide: CallStateStore,
      inject: [RedisConnections, AppConfig],
      useFactory: (redis: RedisConnections, config: AppConfig): CallStateStore =>
        redis.enabled
          ? new CallStateRedisStore(redis.client, `${config.redis.keyPrefix}:calls:`)
          : new CallStateMemoryStore(),
    },
  ],
  exports: [CallsService],
})
export class CallsModule {}
