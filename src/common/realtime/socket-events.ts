import type {
  Message,
  NoThumbnailReason as WireNoThumbnailReason,
  ServerEventMap,
} from '@parley/protocol';
import type { ErrorBody } from '../errors';

/*
 * Every event the server sends, and its payload, is declared once in packages/protocol
 * (the wire contract that the SDK, the web client and the tests import). The server takes
 * its outbound types from there; these names are the server's view of the same types.
 * Type-only imports: nothing of the package is loaded at run time.
 */

/**
 * Every event the server sends to clients, with its payload. All outbound traffic goes
 * through RealtimeEmitter, which only accepts these.
 */
export type ServerToClientEvents = ServerEventMap;
export type ServerEventName = keyof ServerToClientEvents;

/** The message object of docs/protocol.md "Messages". */
export type MessageView = Message;
export type ReceiptEvent = ServerEventMap['receipt'];
export type PresenceEvent = ServerEventMap['presence'];
export type MediaReadyEvent = ServerEventMap['media:ready'];
export type NoThumbnailReason = WireNoThumbnailReason;

export type AckResponse<T extends object = object> =
  ({ ok: true } & T) | { ok: false; error: ErrorBody };
