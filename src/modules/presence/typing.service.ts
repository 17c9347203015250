import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { ChatService } from '../chat/chat.service';
import { UsersService } from '../users/users.service';

export interface TypingInput {
  conversationId: string;
  isTyping: boolean;
}

/** The ack's extra fields: `throttled` when a start was not relayed because of the throttle. */
export interface TypingResult {
  throttled?: true;
}

/**
 * Relays typing indicators to the other members' connected devices. Nothing is stored;
 * receivers drop an indicator after `expiresInMs` unless it is repeated, so a lost stop
 * cannot leave one stuck.
 */
@Injectable()
export class TypingService {
  constructor(
    private readonly chat: ChatService,
    private readonly users: UsersService,
    private readonly rateLimiter: RateLimiter,
    private readonly realtime: RealtimeEmitter,
    private readonly config: AppConfig,
  ) {}

  async typing(caller: AuthContext, input: TypingInput): Promise<TypingResult> {
    const { conversationId, isTyping } = input;
    const { type, memberIds } = await this.chat.activeMembersFor(caller.userId, conversationId);
    // Starts are throttled per user and conversation, across instances when the limiter is
    // Redis-backed. Stops always pass: a lost stop would leave the indicator on until it
    // expires.
    const { throttleMs, ttlMs } = this.config.typing;
    if (isTyping && throttleMs > 0) {
      const decision = await this.rateLimiter.consume(
        `typing:${caller.userId}:${conversationId}`,
        1,
        throttleMs,
      );
      if (!decision.allowed) return { throttled: true };
    }
    const others = memberIds.filter((id) => id !== caller.userId);
    // A blocked typist is answered exactly as anyone else, so the block is not revealed.
    if (type === 'direct' && others[0] && (await this.users.isBlocked(others[0], caller.userId)))
      return {};
    this.realtime.toUsers(others, 'typing', {
      conversationId,
      userId: caller.userId,
      isTyping,
      expiresInMs: ttlMs,
    });
    return {};
  }
}
