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
import type { MessageView } from '../../common/realtime/socket-events';
import { UsersService } from '../users/users.service';
import type {
  ConversationSummary,
  PendingRange,
  PushMember,
  ReceiptStatus,
} from './domain/conversation';
import { MediaService } from '../media/media.service';
import {
  isMediaMessageType,
  isTargetMessageType,
  MAX_BODY_BYTES,
  toMessageView,
  type AppendRejection,
  type SendableMessageType,
  type StoredMessage,
  type UserMessageType,
} from './domain/message';
import { isSingleEmoji } from './domain/message-rules';
import { AudienceCache } from './audience.cache';
import { canRead } from './domain/visibility';
import { statusFor } from './domain/watermarks';
import { MessageAckBatcher } from './message-ack.batcher';
import { MessageWriteBatcher } from './message-write.batcher';
import { EnvelopeRecipients } from './envelope-recipients';
import type { MessageEnvelope } from './domain/envelopes';
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
  /** May be left out when forwarding (the source's type is taken). */
  type?: SendableMessageType;
  body?: string;
  mediaId?: string;
  /** View-once media: each recipient can download it once. */
  viewOnce?: boolean;
  replyToId?: string;
  /** The message an edit, delete or reaction applies to. */
  targetId?: string;
  /** Forward this message: its type, body and media are copied. */
  forwardOf?: string;
  /** End-to-end: one ciphertext per recipient device instead of a body. */
  envelopes?: MessageEnvelope[];
}

/** What a forward takes from its source. */
interface ForwardedContent {
  source: StoredMessage;
  type: UserMessageType;
  body: string;
  mediaId: string | null;
  forwardScore: number;
}

/** A message forwarded this many times or more is "forwarded many times". */
export const FORWARDED_MANY_TIMES = 5;
const FORWARD_WINDOW_MS = 60_000;

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
  /** ISO time, "forever", or null when not muted (or the mute is over). */
  mutedUntil: string | null;
  /** Disappearing messages: 0 (off) or the lifetime of new messages in seconds. */
  disappearAfterSec: number;
  createdAt: string;
}

/** Muted with no end: stored as the largest time both databases keep as a plain date. */
export const MUTED_FOREVER = new Date('9999-12-31T00:00:00.000Z');

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
    private readonly acks: MessageAckBatcher,
    private readonly audiences: AudienceCache,
    private readonly users: UsersService,
    private readonly realtime: RealtimeEmitter,
    private readonly rateLimiter: RateLimiter,
    private readonly events: DomainEvents,
    private readonly config: AppConfig,
    private readonly media: MediaService,
    private readonly envelopeRecipients: EnvelopeRecipients,
    metrics: MetricsRegistry,
  ) {
    this.stored = metrics.counter('parley_messages_stored_total', 'Messages durably stored');
  }

  onModuleInit(): void {
    this.events.on('device.registered', ({ userId, deviceId }) =>
      this.conversations.initDevicePositions(userId, deviceId),
    );
    this.events.on('device.revoked', async ({ deviceId }) => {
      await this.conversations.deleteDevicePositions(deviceId);
      await this.messages.deleteEnvelopesOf(deviceId);
    });
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
    if (input.conversationId && input.recipientId) {
      throw AppError.validation('Give either conversationId or recipientId, not both');
    }
    const fieldsProblem = sendFieldsProblem(input);
    if (fieldsProblem) throw AppError.validation(fieldsProblem);
    const inputBody = input.body ?? '';
    if (
      inputBody.length > MAX_BODY_BYTES / 4 &&
      Buffer.byteLength(inputBody, 'utf8') > MAX_BODY_BYTES
    ) {
      throw AppError.tooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    for (const e of input.envelopes ?? []) {
      if (Buffer.byteLength(e.body, 'utf8') > MAX_BODY_BYTES)
        throw AppError.tooLarge(`An envelope is larger than ${MAX_BODY_BYTES} bytes`);
    }
    await this.checkRate(caller, input.clientMsgId);
    const forwarded = input.forwardOf ? await this.forwardedContent(caller, input) : null;
    const type = forwarded?.type ?? input.type!;
    const body = forwarded?.body ?? inputBody;
    const mediaId = forwarded ? forwarded.mediaId : (input.mediaId ?? null);

    const conversationId =
      input.conversationId ?? (await this.directWith(caller.userId, input.recipientId!));
    // Membership and admin-only rules are enforced by the store, in the transaction that
    // assigns the seq; the cached audience only decides blocking and fan-out.
    const audience = await this.audiences.get(conversationId);
    if (!audience) throw AppError.notFound('Conversation');
    const owners = input.envelopes
      ? await this.envelopeOwners(caller, conversationId, audience.members, input.envelopes)
      : null;
    let withheldFrom: string | null = null;
    if (audience.type === 'direct') {
      const peer = audience.members.find((m) => m.userId !== caller.userId)?.userId;
      if (peer && (await this.users.isBlocked(peer, caller.userId))) withheldFrom = peer;
    }
    if (input.replyToId) {
      // One answer for a message that does not exist, is elsewhere or is hidden from the
      // sender, so a reply cannot probe for messages of other conversations.
      const original = await this.messages.findById(input.replyToId);
      const joinedSeq = audience.members.find((m) => m.userId === caller.userId)?.joinedSeq ?? 0;
      if (
        !original ||
        original.conversationId !== conversationId ||
        original.seq <= joinedSeq ||
        original.withheldFrom === caller.userId
      ) {
        throw AppError.notFound('Replied-to message');
      }
    }
    if (forwarded)
      await this.checkForwardRate(caller, input.clientMsgId, forwarded, conversationId);

    const id = uuidv7();
    // The share is recorded before the message, so no stored message points at media
    // its recipients could not fetch; it is taken back if the message is not stored.
    const attached =
      mediaId && isMediaMessageType(type)
        ? await this.media.attach(caller.userId, {
            mediaId,
            type,
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
      type,
      body,
      mediaId,
      targetId: input.targetId ?? null,
      forwardScore: forwarded?.forwardScore ?? 0,
      viewOnce: input.viewOnce ?? false,
      replyToId: input.replyToId ?? null,
      withheldFrom,
      createdAt: new Date(),
      envelopes: input.envelopes,
    });
    if (result.kind === 'rejected') throw rejectionError(result.reason);
    const { message, duplicate } = result;
    // The sending device has no envelope of its own.
    const view = message.e2e ? { ...toMessageView(message), body: null } : toMessageView(message);
    if (!duplicate) {
      const sealed = input.envelopes && owners ? { envelopes: input.envelopes, owners } : undefined;
      const recipients = await this.fanOut(message, result.membersVersion, caller.socketId, sealed);
      if (attached) {
        // Media processed before this send: its new audience hears about it now.
        await this.media.announceShared(attached, recipients, {
          viewOnce: view.viewOnce,
          exceptUserIds: [caller.userId, ...(message.withheldFrom ? [message.withheldFrom] : [])],
        });
      }
    }
    // Also on a resend: a crash between the commit and this call must not leave the
    // deleted message's media served.
    if (message.type === 'delete' && message.targetId)
      await this.media.releaseMessages([message.targetId]);
    return { message: view, duplicate };
  }

  /**
   * The owner of each envelope's device, after checking the set against the members'
   * current devices (DEVICES_CHANGED). Membership is confirmed first, read fresh when the
   * cached list lacks the caller, so a non-member learns nothing about members' devices.
   */
  private async envelopeOwners(
    caller: Caller,
    conversationId: string,
    cached: ReadonlyArray<{ userId: string }>,
    envelopes: readonly MessageEnvelope[],
  ): Promise<Map<string, string>> {
    let members = cached;
    if (!members.some((m) => m.userId === caller.userId)) {
      members = (await this.conversations.audience(conversationId))?.members ?? [];
      if (!members.some((m) => m.userId === caller.userId)) throw AppError.notAMember();
    }
    return this.envelopeRecipients.check(
      members.map((m) => m.userId),
      caller.deviceId,
      envelopes,
    );
  }

  /**
   * What a device reads of these messages: an end-to-end message's body is that device's
   * envelope (null for a device it was not encrypted for). One query, only when needed.
   */
  private async openedFor<M extends StoredMessage>(deviceId: string, messages: M[]): Promise<M[]> {
    const sealed = messages.filter((m) => m.e2e).map((m) => m.id);
    if (!sealed.length) return messages;
    const envelopes = await this.messages.envelopesFor(deviceId, sealed);
    return messages.map((m) =>
      m.e2e && !m.deletedAt ? { ...m, body: envelopes.get(m.id) ?? null } : m,
    );
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
   * The content a forward copies: NOT_FOUND unless the caller can read the source now
   * (a tombstone has nothing to forward); only text and media messages can be forwarded.
   */
  private async forwardedContent(caller: Caller, input: SendInput): Promise<ForwardedContent> {
    const source = await this.messages.findById(input.forwardOf!);
    if (!source || source.deletedAt || !(await this.readableBy(caller.userId, source))) {
      throw AppError.notFound('Forwarded message');
    }
    if (source.type === 'system' || isTargetMessageType(source.type)) {
      throw AppError.validation('Only text and media messages can be forwarded');
    }
    if (input.type && input.type !== source.type) {
      throw AppError.validation(`type must be the forwarded message's type (${source.type})`);
    }
    return {
      source,
      type: source.type,
      // An E2E client re-encrypts the content for the new conversation and sends it.
      body: input.body ?? source.body ?? '',
      mediaId: source.mediaId,
      forwardScore: (source.forwardScore ?? 0) + 1,
    };
  }

  /**
   * FORWARD_MAX_CHATS distinct conversations per source message per sender per minute
   * (one when the source was forwarded many times). A resend of a stored forward passes.
   */
  private async checkForwardRate(
    caller: Caller,
    clientMsgId: string,
    forwarded: ForwardedContent,
    conversationId: string,
  ): Promise<void> {
    const configured = this.config.messages.forwardMaxChats;
    if (configured <= 0) return;
    const limit = (forwarded.source.forwardScore ?? 0) >= FORWARDED_MANY_TIMES ? 1 : configured;
    const decision = await this.rateLimiter.consumeDistinct(
      `fwd:${caller.userId}:${forwarded.source.id}`,
      conversationId,
      limit,
      FORWARD_WINDOW_MS,
    );
    if (decision.allowed) return;
    if (await this.messages.findBySenderAndClientId(caller.userId, clientMsgId)) return;
    throw AppError.rateLimited(
      decision.retryAfterMs,
      `This message can be forwarded to at most ${limit} chat${limit === 1 ? '' : 's'} a minute`,
    );
  }

  /**
   * Appends a message the server writes itself (type `system`, JSON body) on behalf of a
   * member, and fans it out like any message. Idempotent on (senderId, clientMsgId).
   * Null when the sender is no longer a member or the conversation is gone.
   */
  async appendSystemMessage(input: {
    conversationId: string;
    senderId: string;
    senderDeviceId: string;
    clientMsgId: string;
    body: string;
    /** A direct peer who must never see it (they blocked the sender). */
    withheldFrom?: string | null;
  }): Promise<MessageView | null> {
    const result = await this.batcher.append({
      id: uuidv7(),
      conversationId: input.conversationId,
      senderId: input.senderId,
      senderDeviceId: input.senderDeviceId,
      clientMsgId: input.clientMsgId,
      type: 'system',
      body: input.body,
      mediaId: null,
      viewOnce: false,
      replyToId: null,
      withheldFrom: input.withheldFrom ?? null,
      createdAt: new Date(),
    });
    if (result.kind === 'rejected') return null;
    if (!result.duplicate) await this.fanOut(result.message, result.membersVersion);
    return toMessageView(result.message);
  }

  /** Emits a just-stored message to the members it is for; returns them. */
  private async fanOut(
    message: StoredMessage,
    membersVersion: number,
    exceptSocketId?: string,
    sealed?: { envelopes: readonly MessageEnvelope[]; owners: ReadonlyMap<string, string> },
  ): Promise<string[]> {
    this.stored.inc();
    const current = await this.audiences.atVersion(message.conversationId, membersVersion);
    const recipients: string[] = [];
    // Someone who joined after this seq must not get it; the list is the one in force at it.
    for (const m of current?.members ?? [])
      if (m.joinedSeq < message.seq) recipients.push(m.userId);
    if (sealed) {
      // Each device gets only its own envelope, so each is its own (small) broadcast.
      const allowed = new Set(recipients.filter((id) => id !== message.withheldFrom));
      const view = toMessageView(message);
      for (const e of sealed.envelopes) {
        const owner = sealed.owners.get(e.deviceId);
        if (owner && allowed.has(owner))
          this.realtime.toDevice(e.deviceId, 'message:new', { ...view, body: e.body });
      }
      return recipients;
    }
    this.realtime.toUsers(recipients, 'message:new', toMessageView(message), {
      exceptSocketId,
      exceptUserIds: message.withheldFrom ? [message.withheldFrom] : undefined,
    });
    return recipients;
  }

  /** The direct conversation of two users, created on first use (as a send by recipientId does). */
  directConversationId(userId: string, otherId: string): Promise<string> {
    return this.directWith(userId, otherId);
  }

  /** The direct conversation of two users, if they have one (never creates it). */
  async findDirectConversation(userId: string, otherId: string): Promise<{ id: string } | null> {
    const found = await this.conversations.findDirect(userId, otherId);
    return found ? { id: found.id } : null;
  }

  /** Which of these users share an active conversation with this one. */
  usersSharingConversationWith(userId: string, otherIds: readonly string[]): Promise<Set<string>> {
    return this.conversations.sharedWith(userId, [...otherIds]);
  }

  /** Whether the two users are both active members of some conversation. */
  async sharesConversation(userId: string, otherId: string): Promise<boolean> {
    return (await this.conversations.sharedWith(userId, [otherId])).has(otherId);
  }

  /** Every other user who is an active member of a conversation with this one. */
  conversationPartners(userId: string): Promise<string[]> {
    return this.conversations.partnersOf(userId);
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

  /**
   * Applies a cumulative ack with others in one batch, which then tells the covered
   * senders and the acker's other devices (receipts coalesced per batch).
   */
  async ack(
    caller: Caller,
    conversationId: string,
    seq: number,
    status: ReceiptStatus,
  ): Promise<void> {
    const applied = await this.acks.ack({
      conversationId,
      userId: caller.userId,
      deviceId: caller.deviceId,
      seq,
      status,
      socketId: caller.socketId,
    });
    if (!applied) throw await this.missingConversationError(conversationId);
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
    const page = await this.openedFor(caller.deviceId, found.slice(0, limit));
    return { messages: page.map(toMessageView), hasMore: found.length > limit };
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
    const messages = await this.openedFor(caller.deviceId, page.messages);
    return { messages: messages.map(toMessageView), hasMore: page.hasMore };
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
        lastMessage: last ? toMessageView(last.e2e ? { ...last, body: null } : last) : null,
        lastSeq: visible(s),
        unreadCount: unread.get(s.conversation.id) ?? 0,
        readSeq: s.membership.readSeq,
        deliveredSeq: s.membership.deliveredSeq,
        peerReadSeq: seesRead ? s.peerReadSeq : 0,
        peerDeliveredSeq: s.peerDeliveredSeq,
        // A former member sees the group as it was when they left.
        memberCount: s.membership.leftMemberCount ?? s.conversation.memberCount,
        left: s.membership.leftSeq !== null,
        mutedUntil: mutedUntilView(s.membership.mutedUntil),
        disappearAfterSec: s.conversation.disappearAfterSec,
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
   * before it, not withheld from them, and not expired. Used by media to authorize downloads.
   */
  async visibleMessageIds(userId: string, messageIds: readonly string[]): Promise<Set<string>> {
    return new Set(await this.messages.visibleTo(userId, unique([...messageIds])));
  }

  /** A member when it was sent and not removed before it, not withheld from them, not expired. */
  private async readableBy(userId: string, message: StoredMessage): Promise<boolean> {
    const membership = await this.conversations.findMembership(message.conversationId, userId);
    return canRead(userId, message, membership, new Date());
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

  // --- for the notifications module ------------------------------------------------------

  /** Mutes (or, with null, unmutes) a conversation for an active member. */
  async setMute(userId: string, conversationId: string, until: Date | null): Promise<void> {
    if (!(await this.conversations.setMutedUntil(conversationId, userId, until)))
      throw await this.missingConversationError(conversationId);
  }

  /** A conversation's last seq and active members with their mutes; null if it is gone. */
  pushMembers(conversationId: string): Promise<{ lastSeq: number; members: PushMember[] } | null> {
    return this.conversations.pushMembers(conversationId);
  }

  /** How far each device has acked `delivered` in the conversation (absent: nothing yet). */
  devicePositions(
    conversationId: string,
    deviceIds: readonly string[],
  ): Promise<Map<string, number>> {
    return this.conversations.devicePositions(conversationId, deviceIds);
  }

  /** Unread messages from others per conversation of the user (as the conversation list counts them). */
  async unreadByConversation(userId: string): Promise<Map<string, number>> {
    const summaries = await this.conversations.listForUser(userId);
    return this.messages.countFromOthers(
      summaries.map((s) => ({
        conversationId: s.conversation.id,
        afterSeq: Math.max(s.membership.readSeq, s.membership.joinedSeq),
        untilSeq: s.membership.leftSeq ?? s.conversation.lastSeq,
      })),
      userId,
    );
  }

  /** Who sent the newest message the user can see in the conversation after `afterSeq`. */
  async latestSenderId(
    userId: string,
    conversationId: string,
    afterSeq: number,
    untilSeq: number,
  ): Promise<string | null> {
    const latest = await this.messages.latestVisible(
      [{ conversationId, afterSeq, untilSeq }],
      userId,
    );
    return latest.get(conversationId)?.senderId ?? null;
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
    case 'target_not_found':
      return AppError.notFound('Target message');
    case 'target_invalid':
      return AppError.validation(
        'targetId must be a text or media message (and an edit of a text needs a body)',
      );
    case 'target_forbidden':
      return AppError.forbidden('You can only change your own messages');
    case 'target_window_closed':
      return new AppError(ErrorCode.WINDOW_CLOSED, 'It is too late to change this message');
    case 'too_many_reactions':
      return new AppError(ErrorCode.CONFLICT, 'This message has the most distinct reactions');
  }
}

/**
 * The rules between a send's fields that the parser and DTO leave to the service: media
 * fields only on media messages, targetId exactly on edits, deletes and reactions, what
 * each of those carries, and what a forward may add.
 */
export function sendFieldsProblem(input: SendInput): string | null {
  const type = input.type;
  if (input.forwardOf) {
    if (input.mediaId) return 'A forward takes the media of the forwarded message';
    if (input.targetId || (type && isTargetMessageType(type)))
      return 'Edits, deletes and reactions cannot be forwarded';
    return input.envelopes ? envelopesProblem(input.body, input.envelopes) : null;
  }
  if (!type) return 'type is required';
  if (isTargetMessageType(type)) {
    if (input.envelopes) return `A ${type} carries no envelopes`;
    if (!input.targetId) return `targetId is required for ${type} messages`;
    if (input.mediaId || input.viewOnce) return `A ${type} carries no media`;
    if (input.replyToId) return `A ${type} is not a reply`;
    if (type === 'delete' && input.body) return 'A delete carries no body';
    if (type === 'reaction' && input.body && !isSingleEmoji(input.body))
      return 'A reaction is one emoji, or "" to remove yours';
    return null;
  }
  if (input.targetId) return 'targetId is only for edit, delete and reaction messages';
  if (input.envelopes) return envelopesProblem(input.body, input.envelopes);
  if (type === 'text' && !input.body) return 'body must not be empty';
  if (isMediaMessageType(type)) {
    return input.mediaId ? null : `mediaId is required for ${type} messages`;
  }
  if (input.mediaId) return 'mediaId is only for image, video, audio and document messages';
  if (input.viewOnce) return 'viewOnce is only for image, video, audio and document messages';
  return null;
}

/** Envelopes replace the body; each device at most once, each with ciphertext. */
function envelopesProblem(
  body: string | undefined,
  envelopes: readonly MessageEnvelope[],
): string | null {
  if (body !== undefined) return 'Give either body or envelopes, not both';
  const devices = new Set<string>();
  for (const e of envelopes) {
    if (!e.body) return 'envelopes: body must not be empty';
    if (devices.has(e.deviceId)) return `envelopes: device ${e.deviceId} appears twice`;
    devices.add(e.deviceId);
  }
  return null;
}

function mutedUntilView(until: Date | null): string | null {
  if (!until || until.getTime() <= Date.now()) return null;
  return until.getTime() >= MUTED_FOREVER.getTime() ? 'forever' : until.toISOString();
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
