import { Module } from '@nestjs/common';
import { CassandraSession } from '../../common/cassandra/cassandra.session';
import { AppConfig } from '../../common/config/app-config';
import { Db } from '../../common/database/db';
import { LifecycleState } from '../../common/health/lifecycle.state';
import { AuthModule } from '../auth/auth.module';
import { MediaModule } from '../media/media.module';
import { UsersModule } from '../users/users.module';
import { MessageCassandraRepository } from './adapters/cassandra/message.cassandra.repository';
import { ConversationPostgresRepository } from './adapters/postgres/conversation.postgres.repository';
import { MessagePostgresRepository } from './adapters/postgres/message.postgres.repository';
import { AudienceCache } from './audience.cache';
import { ChatController } from './chat.controller';
import { ChatSocketHandlers } from './chat.socket-handlers';
import { ChatService } from './chat.service';
import { EnvelopeRecipients } from './envelope-recipients';
import { DisappearingService } from './disappearing.service';
import { MessageMarksController } from './message-marks.controller';
import { MessageMarksService } from './message-marks.service';
import { MessageAckBatcher } from './message-ack.batcher';
import { MessageWriteBatcher } from './message-write.batcher';
import { ConversationRepository } from './ports/conversation.repository';
import { MessageRepository } from './ports/message.repository';
import { PurgeDisappearedMessagesProcessor } from './processors/purge-disappeared-messages.processor';
import { PurgeExpiredMessagesProcessor } from './processors/purge-expired-messages.processor';

@Module({
  // Chat checks and records media attachments; media reaches back only through the
  // MediaAudience that ChatService registers (no import cycle).
  imports: [UsersModule, MediaModule, AuthModule],
  controllers: [ChatController, MessageMarksController],
  providers: [
    ChatService,
    ChatSocketHandlers,
    EnvelopeRecipients,
    MessageWriteBatcher,
    MessageAckBatcher,
    AudienceCache,
    PurgeExpiredMessagesProcessor,
    MessageMarksService,
    DisappearingService,
    PurgeDisappearedMessagesProcessor,
    CassandraSession,
    {
      provide: MessageRepository,
      inject: [AppConfig, Db, CassandraSession],
      useFactory: (config: AppConfig, db: Db, cassandra: CassandraSession) =>
        config.messageStore === 'cassandra'
          ? new MessageCassandraRepository(db, cassandra, config)
          : new MessagePostgresRepository(db),
    },
    { provide: ConversationRepository, useClass: ConversationPostgresRepository },
  ],
  // The stores stay private to chat (ADR 0001): other modules go through ChatService.
  exports: [ChatService],
})
export class ChatModule {
  constructor(lifecycle: LifecycleState, batcher: MessageWriteBatcher) {
    // Shutdown waits for sends gathered into a batch, so none is dropped unacked.
    lifecycle.onDrain(() => batcher.drain());
  }
}
