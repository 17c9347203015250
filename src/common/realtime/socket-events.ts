import type { ErrorBody } from '../errors';

/** The message object of PROTOCOL.md "Messages". */
export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  type: 'text' | 'image' | 'video' | 'audio' | 'document' | 'system';
  body: string;
  mediaId: string | null;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
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
 * Every event the server sends to clients, with its payload. All outbound traffic goes
 * through RealtimeEmitter, which only accepts these.
 */
export interface ServerToClientEvents {
  'message:new': MessageView;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  'session:revoked': { deviceId: string; reason: 'logout' | 'device_removed' | 'token_reuse' };
  'server:draining': { reconnectInMs: number };
  'conversation:updated': { conversationId: string };
  'media:ready': { mediaId: string; thumbnailUrl: string | null };
}

export type ServerEventName = keyof ServerToClientEvents;

export type AckResponse<T extends object = object> =
  ({ ok: true } & T) | { ok: false; error: ErrorBody };
