import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ChatModule } from '../chat/chat.module';
import { PresenceModule } from '../presence/presence.module';
import { UsersModule } from '../users/users.module';
import { PushRegistrationPostgresRepository } from './adapters/postgres/push-registration.postgres.repository';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';
import { PushRegistrationRepository } from './ports/push-registration.repository';
import { PushSenders } from './push-senders';

@Module({
  imports: [AuthModule, ChatModule, PresenceModule, UsersModule],
  controllers: [NotificationsController],
  providers: [
    NotificationsService,
    PushSenders,
    { provide: PushRegistrationRepository, useClass: PushRegistrationPostgresRepository },
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
