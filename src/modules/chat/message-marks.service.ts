import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppError } from '../../common/errors';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { MessageView } from '../../common/realtime/socket-events';
import { toMessageView, type StoredMessage } from './domain/message';
import { canRead } from './domain/visibility';
import { ConversationRepository } from './ports/conversation.repository';
import { MessageRepository, type StarredCursor } from './ports/message.repository';

export const STARRED_DEFAULT_LIMIT = 50;
export const STARRED_MAX_LIMIT = 100;

/** The opaque cursor of the starred list: where the last page ended. */
export function encodeStarredCursor(cursor: StarredCursor): string {
  return Buffer.from(`${cursor.starredAt.toISOString()}|${cursor.messageId}`, 'utf8').toString(
    'base64url',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a cursor this server handed out; anything else is VALIDATION_FAILED. */
export function decodeStarredCursor(text: string): StarredCursor {
  const [at, messageId, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const starredAt = new Date(at ?? '');
  if (rest.length || !messageId || !UUID.test(messageId) || Number.isNaN(starredAt.getTime())) {
    throw AppError.validation('cursor is not a cursor of this list');
  }
  return { starredAt, messageId };
}

/**
 * A user's own marks on messages: "delete for me" and stars. They change nothing for
 * anyone else, so they are told only to the user's devices (all of them: the REST request
 * has no socket to leave out).
 */
@Injectable()
export class MessageMarksService {
  constructor(
    private readonly messages: MessageRepository,
    private readonly conversations: ConversationRepository,
    private readonly realtime: RealtimeEmitter,
  ) {}

  /** Hides the message from the user's reads on all their devices. */
  async hideForMe(caller: AuthContext, messageId: string): Promise<void> {
    const message = await this.readable(caller.userId, messageId);
    await this.messages.hide(caller.userId, message.conversationId, [message.id]);
    this.realtime.toUsers([caller.userId], 'message:hidden', {
      conversationId: message.conversationId,
      messageIds: [message.id],
    });
  }

  async setStar(caller: AuthContext, messageId: string, starred: boolean): Promise<void> {
    const message = await this.readable(caller.userId, messageId);
    if (starred) await this.messages.star(caller.userId, message.id, new Date());
    else await this.messages.unstar(caller.userId, message.id);
    this.realtime.toUsers([caller.userId], 'message:starred', { messageId: message.id, starred });
  }

  /** The user's starred messages, newest star first. */
  async starred(
    caller: AuthContext,
    query: { cursor?: string; limit?: number },
  ): Promise<{ messages: MessageView[]; nextCursor: string | null }> {
    const limit = Math.min(query.limit ?? STARRED_DEFAULT_LIMIT, STARRED_MAX_LIMIT);
    const after = query.cursor ? decodeStarredCursor(query.cursor) : null;
    const found = await this.messages.starred(caller.userId, after, limit + 1);
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return {
      messages: page.map((s) => toMessageView(s.message)),
      nextCursor:
        found.length > limit && last
          ? encodeStarredCursor({ starredAt: last.starredAt, messageId: last.message.id })
          : null,
    };
  }

  /** The message, if the user can read it; NOT_FOUND otherwise (its existence is not told). */
  private async readable(userId: string, messageId: string): Promise<StoredMessage> {
    const message = await this.messages.findById(messageId);
    const membership =
      message && (await this.conversations.findMembership(message.conversationId, userId));
    if (!message || !canRead(userId, message, membership ?? null, new Date())) {
      throw AppError.notFound('Message');
    }
    return message;
  }
}
