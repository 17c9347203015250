import type { MessageView } from '../../../common/realtime/socket-events';

export type MessageType = MessageView['type'];
export const USER_MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'document'] as const;
export type UserMessageType = (typeof USER_MESSAGE_TYPES)[number];
/** Message types that carry an uploaded media (mediaId required, kind must match). */
export const MEDIA_MESSAGE_TYPES = ['image', 'video', 'audio', 'document'] as const;
export type MediaMessageType = (typeof MEDIA_MESSAGE_TYPES)[number];

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
  body: string;
  mediaId: string | null;
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
}

/**
 * What a send asks to store: the service chooses the id, the store assigns the seq and
 * the expiry (from the conversation's timer, read in the transaction that assigns the seq).
 */
export type MessageDraft = Omit<StoredMessage, 'seq' | 'editedAt' | 'deletedAt' | 'expiresAt'>;

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
export type AppendRejection = 'conversation_not_found' | 'not_a_member' | 'admin_only';

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

export function toMessageView(m: StoredMessage): MessageView {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    clientMsgId: m.clientMsgId,
    type: m.type,
    body: m.body,
    mediaId: m.mediaId,
    viewOnce: m.viewOnce ?? false,
    replyToId: m.replyToId,
    createdAt: m.createdAt.toISOString(),
    editedAt: m.editedAt ? m.editedAt.toISOString() : null,
    deletedAt: m.deletedAt ? m.deletedAt.toISOString() : null,
    expiresAt: m.expiresAt ? m.expiresAt.toISOString() : null,
  };
}
