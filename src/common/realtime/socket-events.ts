import type { ErrorBody } from '../errors';

/** The message object of docs/protocol.md "Messages". */
export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  type:
    'text' | 'image' | 'video' | 'audio' | 'document' | 'system' | 'edit' | 'delete' | 'reaction';
  /** Null once the message was deleted for everyone. */
  body: string | null;
  mediaId: string | null;
  /** The message an edit, delete or reaction applies to; null for every other type. */
  targetId: string | null;
  /** How many times the content was forwarded to get here (0: not forwarded). */
  forwardScore: number;
  /** View-once media: each recipient can download it once (Parley addition). */
  viewOnce: boolean;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** History reads only: the reactions the message has now. */
  reactions?: Array<{ emoji: string; userIds: string[] }>;
  /** When a disappearing message expires; null unless the conversation's timer was on. */
  expiresAt: string | null;
}

/** Messages the user deleted for themself, to hide on each of their devices. */
export interface MessageHiddenEvent {
  conversationId: string;
  messageIds: string[];
}

/** A star set or removed by the user, for their devices. */
export interface MessageStarredEvent {
  messageId: string;
  starred: boolean;
}

export interface ReceiptEvent {
  conversationId: string;
  userId: string;
  status: 'delivered' | 'read';
  seq: number;
  at: string;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  isTyping: boolean;
  expiresInMs: number;
}

export interface PresenceEvent {
  userId: string;
  online: boolean | null;
  lastSeen: string | null;
}

/**
 * Why there is no thumbnail: none for audio and documents, no ffmpeg for a video poster
 * frame, processing failed, or a view-once recipient (who sees no preview).
 */
export type NoThumbnailReason = 'not-applicable' | 'ffmpeg-unavailable' | 'failed' | 'view-once';

/**
 * Sent to the uploader and to the members who can see a message carrying the media, once
 * its processing (thumbnail, poster frame, duration) is done.
 */
export interface MediaReadyEvent {
  mediaId: string;
  /** Path of the thumbnail under the REST base (needs the bearer token), or null. */
  thumbnailUrl: string | null;
  /** Set when thumbnailUrl is null. */
  noThumbnailReason?: NoThumbnailReason;
  kind?: 'image' | 'video' | 'audio' | 'document';
  width?: number;
  height?: number;
  durationMs?: number;
}

export type CallMediaKind = 'audio' | 'video';

export interface CallIncomingEvent {
  callId: string;
  conversationId: string;
  callerId: string;
  callerDeviceId: string;
  media: CallMediaKind;
}

export interface CallEndedEvent {
  callId: string;
  reason: 'rejected' | 'cancelled' | 'hangup' | 'missed' | 'busy' | 'failed' | 'answered_elsewhere';
}

export interface CallSignalEvent {
  callId: string;
  fromUserId: string;
  fromDeviceId: string;
  /** Opaque JSON (SDP, ICE candidates) as the sending device gave it. */
  data: unknown;
}

/**
 * Every event the server sends to clients, with its payload. All outbound traffic goes
 * through RealtimeEmitter, which only accepts these.
 */
export interface ServerToClientEvents {
  'message:new': MessageView;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  'session:revoked': {
    deviceId: string;
    reason: 'logout' | 'device_removed' | 'token_reuse' | 'banned' | 'account_deleted';
  };
  'server:draining': { reconnectInMs: number };
  'conversation:updated': { conversationId: string };
  'media:ready': MediaReadyEvent;
  'message:hidden': MessageHiddenEvent;
  'message:starred': MessageStarredEvent;
  'call:incoming': CallIncomingEvent;
  'call:accepted': { callId: string; userId: string; deviceId: string };
  'call:ended': CallEndedEvent;
  'call:left': { callId: string; userId: string };
  'call:signal': CallSignalEvent;
  /** To one device: its one-time prekeys fell below KEYS_LOW_THRESHOLD; upload more. */
  'keys:low': { count: number; pqCount: number };
  /** A user who shares a conversation with the recipient uploaded a new identity key. */
  'identity:changed': { userId: string };
}

export type ServerEventName = keyof ServerToClientEvents;

export type AckResponse<T extends object = object> =
  ({ ok: true } & T) | { ok: false; error: ErrorBody };
