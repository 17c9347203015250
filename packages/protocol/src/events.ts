import type { ErrorBody } from './errors';
import type { KeyCounts } from './rest';
import type {
  CallEndReason,
  CallMedia,
  Message,
  MediaKind,
  NoThumbnailReason,
  Presence,
  ReceiptStatus,
  SendableMessageType,
} from './models';

/** Every ack: `{ ok: true, ...T }` or `{ ok: false, error }`. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface SendMessagePayload {
  /** A UUID chosen by the client: resending it returns the original message. */
  clientMsgId: string;
  /** Exactly one of conversationId and recipientId. */
  conversationId?: string;
  recipientId?: string;
  /** Required unless forwardOf is given. */
  type?: SendableMessageType;
  body?: string;
  mediaId?: string;
  viewOnce?: boolean;
  replyToId?: string;
  /** edit, delete and reaction: the message they apply to. */
  targetId?: string;
  forwardOf?: string;
  /**
   * End-to-end: instead of `body`, one ciphertext per device of every member (the
   * sender's other devices included, not the sending one); each device gets its own.
   */
  envelopes?: Envelope[];
}

/** One device's copy of an end-to-end encrypted message. */
export interface Envelope {
  deviceId: string;
  body: string;
}

export interface AckPayload {
  conversationId: string;
  seq: number;
  status: ReceiptStatus;
}

export interface SyncPayload {
  /** Default 100, capped at 500. */
  limit?: number;
}

export interface UserIdsPayload {
  /** At most 500. */
  userIds: string[];
}

export interface TypingPayload {
  conversationId: string;
  isTyping: boolean;
}

export type CallInvitePayload = (
  { calleeId: string; conversationId?: never } | { conversationId: string; calleeId?: never }
) & { media: CallMedia };

export interface CallIdPayload {
  callId: string;
}

export interface CallSignalPayload {
  callId: string;
  toDeviceId: string;
  /** Opaque JSON (SDP, ICE candidates), not null, at most 64 KiB serialized. */
  data: unknown;
}

/**
 * Client-to-server Socket.IO events: the payload each takes and what its ack carries
 * besides `ok`. Every one of them takes an ack callback.
 */
export interface InboundEventMap {
  'message:send': { payload: SendMessagePayload; ack: { message: Message } };
  'message:ack': { payload: AckPayload; ack: object };
  sync: { payload: SyncPayload; ack: { messages: Message[]; hasMore: boolean } };
  'presence:subscribe': { payload: UserIdsPayload; ack: { presence: Presence[] } };
  'presence:unsubscribe': { payload: UserIdsPayload; ack: object };
  /** A throttled start is acked `throttled: true` and not relayed. */
  typing: { payload: TypingPayload; ack: { throttled?: boolean } };
  'call:invite': { payload: CallInvitePayload; ack: { callId: string } };
  'call:accept': { payload: CallIdPayload; ack: object };
  'call:reject': { payload: CallIdPayload; ack: object };
  'call:cancel': { payload: CallIdPayload; ack: object };
  'call:hangup': { payload: CallIdPayload; ack: object };
  'call:signal': { payload: CallSignalPayload; ack: object };
}

export type InboundEventName = keyof InboundEventMap;
export type InboundPayload<E extends InboundEventName> = InboundEventMap[E]['payload'];
export type InboundAck<E extends InboundEventName> = Ack<InboundEventMap[E]['ack']>;

/** The inbound event names at run time; the compiler checks it lists every key once. */
export const INBOUND_EVENT_NAMES = [
  'message:send',
  'message:ack',
  'sync',
  'presence:subscribe',
  'presence:unsubscribe',
  'typing',
  'call:invite',
  'call:accept',
  'call:reject',
  'call:cancel',
  'call:hangup',
  'call:signal',
] as const satisfies readonly InboundEventName[];

type Missing = Exclude<InboundEventName, (typeof INBOUND_EVENT_NAMES)[number]>;
// Fails to compile when a key of InboundEventMap is missing from the list above.
const everyInboundEventListed: [Missing] extends [never] ? true : Missing = true;
void everyInboundEventListed;

export interface ReceiptEvent {
  conversationId: string;
  userId: string;
  status: ReceiptStatus;
  seq: number;
  at: string;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  isTyping: boolean;
  expiresInMs: number;
}

export interface MediaReadyEvent {
  mediaId: string;
  /** Path under the REST base (needs the bearer token), or null. */
  thumbnailUrl: string | null;
  noThumbnailReason?: NoThumbnailReason;
  kind?: MediaKind;
  width?: number;
  height?: number;
  durationMs?: number;
}

export type RevokeReason =
  'logout' | 'device_removed' | 'token_reuse' | 'banned' | 'account_deleted';

/** Server-to-client Socket.IO events and their payloads. */
export interface ServerEventMap {
  'message:new': Message;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  presence: Presence;
  'session:revoked': { deviceId: string; reason: RevokeReason };
  'server:draining': { reconnectInMs: number };
  'conversation:updated': { conversationId: string };
  'media:ready': MediaReadyEvent;
  'message:hidden': { conversationId: string; messageIds: string[] };
  'message:starred': { messageId: string; starred: boolean };
  'call:incoming': {
    callId: string;
    conversationId: string;
    callerId: string;
    callerDeviceId: string;
    media: CallMedia;
  };
  'call:accepted': { callId: string; userId: string; deviceId: string };
  'call:ended': { callId: string; reason: CallEndReason };
  'call:left': { callId: string; userId: string };
  'call:signal': { callId: string; fromUserId: string; fromDeviceId: string; data: unknown };
  /** To one device: its one-time prekeys fell low; upload more (PUT /keys). */
  'keys:low': KeyCounts;
  /** A user you share a conversation with has a new identity key. */
  'identity:changed': { userId: string };
}

export type ServerEventName = keyof ServerEventMap;

export const SERVER_EVENT_NAMES = [
  'message:new',
  'receipt',
  'typing',
  'presence',
  'session:revoked',
  'server:draining',
  'conversation:updated',
  'media:ready',
  'message:hidden',
  'message:starred',
  'call:incoming',
  'call:accepted',
  'call:ended',
  'call:left',
  'call:signal',
  'keys:low',
  'identity:changed',
] as const satisfies readonly ServerEventName[];

type MissingServer = Exclude<ServerEventName, (typeof SERVER_EVENT_NAMES)[number]>;
const everyServerEventListed: [MissingServer] extends [never] ? true : MissingServer = true;
void everyServerEventListed;
