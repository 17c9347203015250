import type { MessageView } from '../../../common/realtime/socket-events';
import type { MessageEnvelope } from './envelopes';

export type MessageType = MessageView['type'];
export const USER_MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'document'] as const;
export type UserMessageType = (typeof USER_MESSAGE_TYPES)[number];
/** Message types that carry an uploaded media (mediaId required, kind must match). */
export const MEDIA_MESSAGE_TYPES = ['image', 'video', 'audio', 'document'] as const;
export type MediaMessageType = (typeof MEDIA_MESSAGE_TYPES)[number];

/** Events that change another message (their target) rather than adding content. */
export const TARGET_MESSAGE_TYPES = ['edit', 'delete', 'reaction'] as const;
export type TargetMessageType = (typeof TARGET_MESSAGE_TYPES)[number];
/** Every type a client may send. */
export const SENDABLE_MESSAGE_TYPES = [...USER_MESSAGE_TYPES, ...TARGET_MESSAGE_TYPES] as const;
export type SendableMessageType = (typeof SENDABLE_MESSAGE_TYPES)[number];

export function isTargetMessageType(type: string): type is TargetMessageType {
  return (TARGET_MESSAGE_TYPES as readonly string[]).includes(type);
}

export function isMediaMessageType(type: string): type is MediaMessageType {
  return (MEDIA_MESSAGE_TYPES as readonly string[]).includes(type);
}

/** 64 KiB: the largest message body, in UTF-8 bytes. */
export const MAX_BODY_BYTES = 65_536;

export interface StoredMessage {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  type: MessageType;
  /** Null once deleted for everyone. */
  body: string | null;
  mediaId: string | null;
  /** The message an edit, delete or reaction applies to; absent means null. */
  targetId?: string | null;
  /** Forwarding hops; absent means 0. */
  forwardScore?: number;
  /** View-once media; absent means false (system messages, older rows). */
  viewOnce?: boolean;
  replyToId: string | null;
  /** A direct recipient who blocked the sender: the message is never shown to them. */
  withheldFrom: string | null;
  createdAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
  /** Set when the conversation had disappearing messages on at send time. */
  expiresAt: Date | null;
  /**
   * Sent as per-device envelopes: the stored body is empty and each device reads its own
   * envelope instead. Absent means false.
   */
  e2e?: boolean;
}

/**
 * What a send asks to store: the service chooses the id, the store assigns the seq and
 * the expiry (from the conversation's timer, read in the transaction that assigns the seq).
 */
export type MessageDraft = Omit<
  StoredMessage,
  'seq' | 'editedAt' | 'deletedAt' | 'expiresAt' | 'body' | 'e2e'
> & {
  body: string;
  /** Per-device ciphertexts, stored with the message in the same transaction. */
  envelopes?: readonly MessageEnvelope[];
};

/** A message the purge removed, with what it pointed at that may need removing too. */
export interface PurgedMessage {
  id: string;
  conversationId: string;
  mediaId: string | null;
}

/** A message in a user's starred list. */
export interface StarredMessage {
  message: StoredMessage;
  starredAt: Date;
}

/** Why the store refused a draft; checked in the same transaction that assigns the seq. */
export type AppendRejection =
  'conversation_not_found' | 'not_a_member' | 'admin_only' | TargetRejection;

/**
 * Why an edit, delete or reaction was refused, judged against the target in the write
 * transaction: no such message visible to the sender in this conversation, a target that
 * is itself an event (or a system message), not the sender's to change, too late, or one
 * distinct emoji too many.
 */
export type TargetRejection =
  | 'target_not_found'
  | 'target_invalid'
  | 'target_forbidden'
  | 'target_window_closed'
  | 'too_many_reactions';

/** One emoji on a message and who reacted with it, in the order it was first used. */
export interface ReactionSummary {
  emoji: string;
  userIds: string[];
}

/** A stored message as history shows it: with the reactions it currently has. */
export interface MessageWithReactions extends StoredMessage {
  reactions: ReactionSummary[];
}

export type AppendResult =
  | {
      kind: 'stored';
      message: StoredMessage;
      /** True when (sender, clientMsgId) was stored before: this is the original. */
      duplicate: boolean;
      /** The conversation's membership version when the message was stored. */
      membersVersion: number;
    }
  | { kind: 'rejected'; reason: AppendRejection };

/**
 * A system message (a record of what changed in the conversation, its JSON event as the
 * body), sent from the actor's device. It never expires: it is the conversation's history.
 */
export function systemMessage(input: {
  id: string;
  conversationId: string;
  seq: number;
  actor: { userId: string; deviceId: string };
  event: object;
  createdAt: Date;
}): StoredMessage {
  return {
    id: input.id,
    conversationId: input.conversationId,
    seq: input.seq,
    senderId: input.actor.userId,
    senderDeviceId: input.actor.deviceId,
    clientMsgId: `system:${input.id}`,
    type: 'system',
    body: JSON.stringify(input.event),
    mediaId: null,
    viewOnce: false,
    replyToId: null,
    withheldFrom: null,
    createdAt: input.createdAt,
    editedAt: null,
    deletedAt: null,
    expiresAt: null,
  };
}

export function toMessageView(m: StoredMessage | MessageWithReactions): MessageView {
  const view: MessageView = {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    type: m.type,
    body: m.body,
    mediaId: m.mediaId,
    targetId: m.targetId ?? null,
    forwardScore: m.forwardScore ?? 0,
    viewOnce: m.viewOnce ?? false,
    replyToId: m.replyToId,
    createdAt: m.createdAt.toISOString(),
    editedAt: m.editedAt ? m.editedAt.toISOString() : null,
    deletedAt: m.deletedAt ? m.deletedAt.toISOString() : null,
    expiresAt: m.expiresAt ? m.expiresAt.toISOString() : null,
  };
  if ('reactions' in m) view.reactions = m.reactions;
  return view;
}
