import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { uuidv7 } from 'uuidv7';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AppError, ErrorCode } from '../../common/errors';
import { DomainEvents } from '../../common/events/domain-events';
import { MetricsRegistry } from '../../common/metrics/metrics.registry';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { MessageView, ReceiptEvent } from '../../common/realtime/socket-events';
import { UsersService } from '../users/users.service';
import type { ConversationSummary, PendingRange, ReceiptStatus } from './domain/conversation';
import { MediaService } from '../media/media.service';
import {
  isMediaMessageType,
  MAX_BODY_BYTES,
  toMessageView,
  type AppendRejection,
  type UserMessageType,
} from './domain/message';
import { AudienceCache } from './audience.cache';
import { statusFor } from './domain/watermarks';
import { MessageWriteBatcher } from './message-write.batcher';
import { ConversationRepository } from './ports/conversation.repository';
import { MessageRepository } from './ports/message.repository';

/** The caller of a chat operation; `socketId` is set when it came over Socket.IO. */
export interface Caller extends AuthContext {
  socketId?: string;
}

export interface SendInput {
  clientMsgId: string;
  conversationId?: string;
  recipientId?: string;
  type: UserMessageType;
  body?: string;
  mediaId?: string;
  /** View-once media: each recipient can download it once. */
  viewOnce?: boolean;
  replyToId?: string;
}

export interface ConversationView {
  id: string;
  type: 'direct' | 'group';
  name: string | null;
  peerId: string | null;
  lastMessage: MessageView | null;
  lastSeq: number;
  unreadCount: number;
  readSeq: number;
  deliveredSeq: number;
  peerReadSeq: number;
  peerDeliveredSeq: number;
  memberCount: number;
  left: boolean;
  createdAt: string;
}

export interface ReceiptView {
  userId: string;
  status: 'sent' | 'delivered' | 'read';
  at: string;
}

const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 100;

@Injectable()
export class ChatService implements OnModuleInit {
  private readonly stored: Counter;

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly batcher: MessageWriteBatcher,
    private readonly audiences: AudienceCache,
    private readonly users: UsersService,
    private readonly realtime: RealtimeEmitter,
    private readonly rateLimiter: RateLimiter,
    private readonly events: DomainEvents,
    private readonly config: AppConfig,
    private readonly media: MediaService,
    metrics: MetricsRegistry,
  ) {
    this.stored = metrics.counter('parley_messages_stored_total', 'Messages durably stored');
  }

  onModuleInit(): void {
    this.events.on('device.registered', ({ userId, deviceId }) =>
      this.conversations.initDevicePositions(userId, deviceId),
    );
    this.events.on('device.revoked', ({ deviceId }) =>
      this.conversations.deleteDevicePositions(deviceId),
    );
    this.events.on('user.privacy.changed', ({ userId, readReceipts }) =>
      this.conversations.setReadReceipts(userId, readReceipts),
    );
    // Media asks chat who may see a message (it cannot import chat: chat imports media).
    this.media.registerAudience({
      visibleMessageIds: (userId, ids) => this.visibleMessageIds(userId, ids),
      audienceOf: (ids) => this.currentAudienceOf(ids),
    });
  }

  /** Stores a message once, then fans it out; resolves only after the commit (the "sent" tick). */
  async send(
    caller: Caller,
    input: SendInput,
  ): Promise<{ message: MessageView; duplicate: boolean }> {
    const body = input.body ?? '';
    if (input.conversationId && input.recipientId) {
      throw AppError.validation('Give either conversationId or recipientId, not both');
    }
    if (input.type === 'text' && body.length === 0)
      throw AppError.validation('body must not be empty');
    const mediaProblem = mediaFieldsProblem(input);
    if (mediaProblem) throw AppError.validation(mediaProblem);
    if (body.length > MAX_BODY_BYTES / 4 && Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
      throw AppError.tooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    await this.checkRate(caller, input.clientMsgId);

    const conversationId =
      input.conversationId ?? (await this.directWith(caller.userId, input.recipientId!));
    // Membership and admin-only rules are enforced by the store, in the transaction that
    // assigns the seq; the cached audience only decides blocking and fan-out.
    const audience = await this.audiences.get(conversationId);
    if (!audience) throw AppError.notFound('Conversation');
    let withheldFrom: string | null = null;
    if (audience.type === 'direct') {
      const peer = audience.members.find((m) => m.userId !== caller.userId)?.userId;
      if (peer && (await this.users.isBlocked(peer, caller.userId))) withheldFrom = peer;
    }
    if (input.replyToId) {
      const original = await this.messages.findById(input.replyToId);
      const joinedSeq = audience.members.find((m) => m.userId === caller.userId)?.joinedSeq ?? 0;
      if (!original || original.conversationId !== conversationId || original.seq <= joinedSeq) {
        throw AppError.notFound('Replied-to message');
      }
    }

    const id = uuidv7();
    // The share is recorded before the message, so no stored message points at media
    // its recipients could not fetch; it is taken back if the message is not stored.
    const attached =
      input.mediaId && isMediaMessageType(input.type)
        ? await this.media.attach(caller.userId, {
            mediaId: input.mediaId,
            type: input.type,
            viewOnce: input.viewOnce ?? false,
            messageId: id,
            conversationId,
          })
        : null;
    const result = await this.appendOrDetach(attached ? input.mediaId! : null, {
      id,
      conversationId,
      senderId: caller.userId,
      senderDeviceId: caller.deviceId,
      clientMsgId: input.clientMsgId,
      type: input.type,
      body,
      mediaId: input.mediaId ?? null,
      viewOnce: input.viewOnce ?? false,
      replyToId: input.replyToId ?? null,
      withheldFrom,
      createdAt: new Date(),
    });
    if (result.kind === 'rejected') throw rejectionError(result.reason);
    const { message, duplicate } = result;
    const view = toMessageView(message);
    if (!duplicate) {
      this.stored.inc();
      const current = await this.audiences.atVersion(conversationId, result.membersVersion);
      const recipients: string[] = [];
      // Someone who joined after this seq must not get it; the list is the one in force at it.
      for (const m of current?.members ?? [])
        if (m.joinedSeq < message.seq) recipients.push(m.userId);
      this.realtime.toUsers(recipients, 'message:new', view, {
        exceptSocketId: caller.socketId,
        exceptUserIds: message.withheldFrom ? [message.withheldFrom] : undefined,
      });
      if (attached) {
        // Media processed before this send: its new audience hears about it now.
        await this.media.announceShared(attached, recipients, {
          viewOnce: view.viewOnce,
          exceptUserIds: [caller.userId, ...(message.withheldFrom ? [message.withheldFrom] : [])],
        });
      }
    }
    return { message: view, duplicate };
  }

  /** Appends the draft; a share recorded for it is removed unless this send stored it. */
  private async appendOrDetach(
    mediaId: string | null,
    draft: Parameters<MessageWriteBatcher['append']>[0],
  ): Promise<Awaited<ReturnType<MessageWriteBatcher['append']>>> {
    let stored = false;
    try {
      const result = await this.batcher.append(draft);
      stored = result.kind !== 'rejected' && !result.duplicate;
      return result;
    } finally {
      if (mediaId && !stored) await this.media.detach(mediaId, draft.id);
    }
  }

  /**
   * Authorizes an ephemeral signal (typing) in a conversation: NOT_FOUND if it does not
   * exist, NOT_A_MEMBER unless the caller is an active member. Returns the active members.
   * Read fresh, not from the send cache: a just-removed member must be refused at once.
   */
  async activeMembersFor(
    userId: string,
    conversationId: string,
  ): Promise<{ type: 'direct' | 'group'; memberIds: string[] }> {
    const audience = await this.conversations.audience(conversationId);
    if (!audience) throw AppError.notFound('Conversation');
    const memberIds = audience.members.map((m) => m.userId);
    if (!memberIds.includes(userId)) throw AppError.notAMember();
    return { type: audience.type, memberIds };
  }

  /**
   * The send rate limit. A refused resend of a message that was stored (its ack was lost)
   * is not refused: the caller gets the original, as idempotency promises.
   */
  private async checkRate(caller: Caller, clientMsgId: string): Promise<void> {
    const limit = this.config.messages.rateLimitPerMinute;
    if (limit <= 0) return;
    const decision = await this.rateLimiter.consume(`msg:${caller.userId}`, limit, 60_000);
    if (decision.allowed) return;
    if (await this.messages.findBySenderAndClientId(caller.userId, clientMsgId)) return;
    throw AppError.rateLimited(decision.retryAfterMs, `At most ${limit} messages per minute`);
  }

  private async directWith(userId: string, recipientId: string): Promise<string> {
    if (recipientId === userId)
      throw AppError.validation('You cannot message yourself with recipientId');
    const known = this.audiences.directId(userId, recipientId);
    if (known) return known;
    if (!(await this.users.exists(recipientId))) throw AppError.notFound('Recipient');
    const { conversation } = await this.conversations.getOrCreateDirect(
      uuidv7(),
      userId,
      recipientId,
    );
    this.audiences.rememberDirect(userId, recipientId, conversation.id);
    return conversation.id;
  }

  async openDirect(userId: string, otherId: string): Promise<ConversationView> {
    const id = await this.directWith(userId, otherId);
    const summary = await this.conversations.summaryFor(id, userId);
    const [view] = await this.toViews(userId, [summary!]);
    return view;
  }

  /** Applies a cumulative ack and tells the covered senders and the acker's other devices. */
  async ack(
    caller: Caller,
    conversationId: string,
    seq: number,
    status: ReceiptStatus,
  ): Promise<void> {
    const advance = await this.conversations.advance({
      conversationId,
      userId: caller.userId,
      deviceId: caller.deviceId,
      seq,
      status,
      at: new Date(),
    });
    if (!advance) throw await this.missingConversationError(conversationId);
    const at = advance.at.toISOString();
    const emitOptions = { exceptSocketId: caller.socketId };
    const self = [caller.userId];

    if (advance.delivered > advance.previousDelivered) {
      const senders = await this.messages.sendersBetween(
        conversationId,
        advance.previousDelivered,
        advance.delivered,
        caller.userId,
      );
      const receipt: ReceiptEvent = {
        conversationId,
        userId: caller.userId,
        status: 'delivered',
        seq: advance.delivered,
        at,
      };
      this.realtime.toUsers(unique([...senders, ...self]), 'receipt', receipt, emitOptions);
    }
    if (advance.read > advance.previousRead) {
      const receipt: ReceiptEvent = {
        conversationId,
        userId: caller.userId,
        status: 'read',
        seq: advance.read,
        at,
      };
      const senders = (
        await this.messages.sendersBetween(
          conversationId,
          advance.previousRead,
          advance.read,
          caller.userId,
        )
      ).filter((id) => id !== caller.userId);
      let audience = self;
      if (senders.length) {
        // Read receipts flow only between users who both share them.
        const sharing = await this.conversations.readReceiptsOf([caller.userId, ...senders]);
        if (sharing.get(caller.userId))
          audience = [...senders.filter((id) => sharing.get(id)), ...self];
      }
      this.realtime.toUsers(unique(audience), 'receipt', receipt, emitOptions);
    }
  }

  async ackMessage(caller: Caller, messageId: string, status: ReceiptStatus): Promise<void> {
    const message = await this.messages.findById(messageId);
    if (!message || message.withheldFrom === caller.userId) throw AppError.notFound('Message');
    await this.ack(caller, message.conversationId, message.seq, status);
  }

  /** What this device has not acked yet, oldest first per conversation. */
  async sync(
    caller: Caller,
    requested?: number,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    const limit = Math.min(
      requested ?? this.config.messages.syncDefaultLimit,
      this.config.messages.syncMaxLimit,
    );
    const ranges = await this.conversations.pendingRanges(caller.userId, caller.deviceId);
    const found = await this.messages.pending(ranges, {
      limit: limit + 1,
      deviceId: caller.deviceId,
      viewerId: caller.userId,
    });
    return { messages: found.slice(0, limit).map(toMessageView), hasMore: found.length > limit };
  }

  async history(
    caller: Caller,
    conversationId: string,
    query: { beforeSeq?: number; afterSeq?: number; limit?: number },
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    const summary = await this.conversations.summaryFor(conversationId, caller.userId);
    if (!summary) throw await this.missingConversationError(conversationId);
    const { membership, conversation } = summary;
    const page = await this.messages.history({
      conversationId,
      minSeqExclusive: membership.joinedSeq,
      maxSeq: membership.leftSeq ?? conversation.lastSeq,
      beforeSeq: query.beforeSeq,
      afterSeq: query.afterSeq,
      limit: Math.min(query.limit ?? HISTORY_DEFAULT, HISTORY_MAX),
      viewerId: caller.userId,
    });
    return { messages: page.messages.map(toMessageView), hasMore: page.hasMore };
  }

  async listConversations(userId: string): Promise<ConversationView[]> {
    return this.toViews(userId, await this.conversations.listForUser(userId));
  }

  /** A page of the conversation list; `nextCursor` is null on the last page. */
  async conversationPage(
    userId: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ conversations: ConversationView[]; nextCursor: string | null }> {
    let after: { activityMicros: string; id: string } | null = null;
    if (cursor) {
      const [activityMicros, id] = cursor.split('.');
      after = { activityMicros, id };
    }
    const rows = await this.conversations.listPageForUser(userId, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      conversations: await this.toViews(
        userId,
        page.map((r) => r.summary),
      ),
      nextCursor: rows.length > limit && last ? `${last.key.activityMicros}.${last.key.id}` : null,
    };
  }

  async conversation(userId: string, conversationId: string): Promise<ConversationView> {
    const summary = await this.conversations.summaryFor(conversationId, userId);
    if (!summary) throw await this.missingConversationError(conversationId);
    const [view] = await this.toViews(userId, [summary]);
    return view;
  }

  /** Every member but the sender who could see the message, with status and time. */
  async receipts(caller: Caller, messageId: string): Promise<ReceiptView[]> {
    const message = await this.messages.findById(messageId);
    if (!message || message.withheldFrom === caller.userId) throw AppError.notFound('Message');
    const membership = await this.conversations.findMembership(
      message.conversationId,
      caller.userId,
    );
    if (!membership) throw AppError.notAMember();
    if (
      message.seq <= membership.joinedSeq ||
      (membership.leftSeq !== null && message.seq > membership.leftSeq)
    ) {
      throw AppError.notAMember();
    }
    const [members, deliveredAt, readAt, callerSettings] = await Promise.all([
      this.conversations.memberReceipts(message.conversationId),
      this.conversations.watermarkTimes(message.conversationId, 'delivered', message.seq),
      this.conversations.watermarkTimes(message.conversationId, 'read', message.seq),
      this.conversations.readReceiptsOf([caller.userId]),
    ]);
    const callerSeesRead = callerSettings.get(caller.userId) ?? true;
    const sentAt = message.createdAt.toISOString();
    return members
      .filter(
        (m) =>
          m.userId !== message.senderId &&
          m.joinedSeq < message.seq &&
          (m.leftSeq === null || m.leftSeq >= message.seq),
      )
      .map((m) => {
        if (m.userId === message.withheldFrom)
          return { userId: m.userId, status: 'sent' as const, at: sentAt };
        const status = statusFor(
          message.seq,
          { delivered: m.deliveredSeq, read: m.readSeq },
          callerSeesRead && m.readReceipts,
        );
        const at =
          status === 'read'
            ? (readAt.get(m.userId) ?? m.readAt)
            : status === 'delivered'
              ? (deliveredAt.get(m.userId) ?? m.deliveredAt)
              : null;
        return { userId: m.userId, status, at: at ? at.toISOString() : sentAt };
      });
  }

  private async toViews(
    userId: string,
    summaries: ConversationSummary[],
  ): Promise<ConversationView[]> {
    if (!summaries.length) return [];
    const visible = (s: ConversationSummary) => s.membership.leftSeq ?? s.conversation.lastSeq;
    const lastRanges: PendingRange[] = summaries.map((s) => ({
      conversationId: s.conversation.id,
      afterSeq: s.membership.joinedSeq,
      untilSeq: visible(s),
    }));
    const unreadRanges: PendingRange[] = summaries.map((s) => ({
      conversationId: s.conversation.id,
      afterSeq: Math.max(s.membership.readSeq, s.membership.joinedSeq),
      untilSeq: visible(s),
    }));
    const peerIds = unique(summaries.map((s) => s.peerId).filter((id): id is string => !!id));
    const [lastMessages, unread, peers, settings] = await Promise.all([
      this.messages.latestVisible(lastRanges, userId),
      this.messages.countFromOthers(unreadRanges, userId),
      this.users.findMany(peerIds),
      this.conversations.readReceiptsOf([userId]),
    ]);
    // The display name only: the phone number is not shown to whoever opens a chat.
    const peerNames = new Map(peers.map((u) => [u.id, u.displayName || null]));
    const seesRead = settings.get(userId) ?? true;
    return summaries.map((s) => {
      const last = lastMessages.get(s.conversation.id);
      return {
        id: s.conversation.id,
        type: s.conversation.type,
        name:
          s.conversation.type === 'group'
            ? (s.membership.leftName ?? s.conversation.name)
            : s.peerId
              ? (peerNames.get(s.peerId) ?? null)
              : null,
        peerId: s.peerId,
        lastMessage: last ? toMessageView(last) : null,
        lastSeq: visible(s),
        unreadCount: unread.get(s.conversation.id) ?? 0,
        readSeq: s.membership.readSeq,
        deliveredSeq: s.membership.deliveredSeq,
        peerReadSeq: seesRead ? s.peerReadSeq : 0,
        peerDeliveredSeq: s.peerDeliveredSeq,
        // A former member sees the group as it was when they left.
        memberCount: s.membership.leftMemberCount ?? s.conversation.memberCount,
        left: s.membership.leftSeq !== null,
        createdAt: s.conversation.createdAt.toISOString(),
      };
    });
  }

  private async missingConversationError(conversationId: string): Promise<AppError> {
    return (await this.conversations.findById(conversationId))
      ? AppError.notAMember()
      : AppError.notFound('Conversation');
  }

  /**
   * Of these messages, those the user can see: a member when it was sent and not removed
   * before it, and not withheld from them. Used by media to authorize downloads.
   */
  async visibleMessageIds(userId: string, messageIds: readonly string[]): Promise<Set<string>> {
    return new Set(await this.messages.visibleTo(userId, unique([...messageIds])));
  }

  /** Present members who can see these messages (for media:ready). */
  async currentAudienceOf(messageIds: readonly string[]): Promise<string[]> {
    const users = new Set<string>();
    for (const id of unique([...messageIds])) {
      const message = await this.messages.findById(id);
      if (!message) continue;
      for (const member of await this.conversations.memberReceipts(message.conversationId)) {
        if (
          member.leftSeq === null &&
          member.joinedSeq < message.seq &&
          member.userId !== message.withheldFrom
        ) {
          users.add(member.userId);
        }
      }
    }
    return [...users];
  }

  /** Deletes messages and receipt times past the retention period, in bounded batches. */
  async purgeExpired(): Promise<number> {
    const before = new Date(Date.now() - this.config.messages.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.messages.deleteCreatedBefore(before, 5000);
      total += n;
      if (n < 5000) break;
    }
    await this.conversations.deleteWatermarkTimesBefore(before);
    return total;
  }
}

function rejectionError(reason: AppendRejection): AppError {
  switch (reason) {
    case 'conversation_not_found':
      return AppError.notFound('Conversation');
    case 'not_a_member':
      return AppError.notAMember();
    case 'admin_only':
      return new AppError(ErrorCode.ADMIN_ONLY, 'Only admins can send messages in this group');
  }
}

/** Media messages need a mediaId; other types take neither mediaId nor viewOnce. */
function mediaFieldsProblem(input: SendInput): string | null {
  if (isMediaMessageType(input.type)) {
    return input.mediaId ? null : `mediaId is required for ${input.type} messages`;
  }
  if (input.mediaId) return 'mediaId is only for image, video, audio and document messages';
  if (input.viewOnce) return 'viewOnce is only for image, video, audio and document messages';
  return null;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
