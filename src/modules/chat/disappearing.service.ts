import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppError, ErrorCode } from '../../common/errors';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { MediaService } from '../media/media.service';
import { ChatService, type ConversationView } from './chat.service';
import { toMessageView } from './domain/message';
import { ConversationRepository } from './ports/conversation.repository';
import { MessageRepository } from './ports/message.repository';

const PURGE_BATCH = 1000;

/**
 * Disappearing messages. The timer is a conversation setting; each message gets its expiry
 * when stored (MessageRepository.append), reads stop showing it from that moment, and the
 * purge job deletes it and its media for good.
 */
@Injectable()
export class DisappearingService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly chat: ChatService,
    private readonly media: MediaService,
    private readonly realtime: RealtimeEmitter,
  ) {}

  /** Sets the timer (the value is checked by the caller's DTO) and announces a change. */
  async setTimer(
    caller: AuthContext,
    conversationId: string,
    disappearAfterSec: number,
  ): Promise<ConversationView> {
    const change = await this.conversations.setDisappearing(
      conversationId,
      caller,
      disappearAfterSec,
    );
    if (change.kind === 'rejected') {
      switch (change.reason) {
        case 'conversation_not_found':
          throw AppError.notFound('Conversation');
        case 'not_a_member':
          throw AppError.notAMember();
        case 'admin_only':
          throw new AppError(
            ErrorCode.ADMIN_ONLY,
            'Only group admins can change disappearing messages in this group',
          );
      }
    }
    if (change.message) {
      const audience = await this.conversations.audience(conversationId);
      this.realtime.toUsers(
        (audience?.members ?? []).map((m) => m.userId),
        'message:new',
        toMessageView(change.message),
      );
    }
    return this.chat.conversation(caller.userId, conversationId);
  }

  /** Deletes every expired message, in batches, and then the media only they carried. */
  async purgeExpired(now = new Date()): Promise<{ messages: number; media: number }> {
    let messages = 0;
    let media = 0;
    for (;;) {
      const purged = await this.messages.deleteExpired(now, PURGE_BATCH);
      messages += purged.length;
      const carrying = purged.filter((m) => m.mediaId).map((m) => m.id);
      if (carrying.length) media += await this.media.releaseMessages(carrying);
      if (purged.length < PURGE_BATCH) break;
    }
    return { messages, media };
  }
}
