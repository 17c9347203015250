import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from './common/config/app-config';
import { ConfigModule } from './common/config/config.module';
import { DatabaseModule, EmbeddedPostgresModule } from './common/database/database.module';
import { EventsModule } from './common/events/events.module';
import { HealthModule } from './common/health/health.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { RealtimeGatewayModule } from './common/realtime/realtime-gateway.module';
import { RealtimeModule } from './common/realtime/realtime.module';
import { RedisModule } from './common/redis/redis.module';
import { AuthModule } from './modules/auth/auth.module';
import { UsersModule } from './modules/users/users.module';
import { ChatModule } from './modules/chat/chat.module';
import { MediaModule } from './modules/media/media.module';
import { GroupsModule } from './modules/groups/groups.module';
import { PresenceModule } from './modules/presence/presence.module';
import { NotificationsModule } from './modules/notifications/notifications.module';
import { CallsModule } from './modules/calls/calls.module';
import { KeysModule } from './modules/keys/keys.module';
import { QueueModule } from './common/queue/queue.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { SafetyModule } from './modules/safety/safety.module';
import { WebClientModule } from './common/web-client/web-client';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule,
        EmbeddedPostgresModule,
        DatabaseModule,
        RedisModule,
        RateLimitModule,
        QueueModule,
        EventsModule,
        HealthModule,
        RealtimeModule,
        // Workers run no Socket.IO server; they reach sockets through the Redis emitter.
        ...(config.runsApi
          ? [RealtimeGatewayModule.withVerifierFrom(AuthModule), WebClientModule]
          : []),
        AuthModule,
        UsersModule,
        ChatModule,
        MediaModule,
        GroupsModule,
        PresenceModule,
        NotificationsModule,
        CallsModule,
        KeysModule,
        SafetyModule,
      ],
    };
  }
}
