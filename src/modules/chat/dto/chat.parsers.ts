import { AppError } from '../../../common/errors';
import {
  isMediaMessageType,
  isTargetMessageType,
  SENDABLE_MESSAGE_TYPES,
  type SendableMessageType,
} from '../domain/message';
import { MAX_ENVELOPES, type MessageEnvelope } from '../domain/envelopes';
import type { SendInput } from '../chat.service';

/**
 * Hand-written validation for the two hottest socket events. It accepts exactly what the
 * class-validator DTOs (SendMessageDto, AckDto) accept — a property test holds them
 * together — at a small fraction of the cost per message.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEND_KEYS = new Set([
  'clientMsgId',
  'conversationId',
  'recipientId',
  'type',
  'body',
  'mediaId',
  'viewOnce',
  'replyToId',
  'targetId',
  'forwardOf',
  'envelopes',
]);
const ENVELOPE_KEYS = new Set(['deviceId', 'body']);
const ACK_KEYS = new Set(['conversationId', 'seq', 'status']);
const TYPES: ReadonlySet<string> = new Set(SENDABLE_MESSAGE_TYPES);

function record(payload: unknown): Record<string, unknown> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw AppError.validation('Payload must be a JSON object');
  }
  return payload as Record<string, unknown>;
}

function onlyKnownKeys(p: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(p)) {
    if (!allowed.has(key)) throw AppError.validation(`${key}: property ${key} should not exist`);
  }
}

/** An optional id, lower-cased as the DTOs do: absent or null means not given. */
function optionalUuid(p: Record<string, unknown>, key: string): string | undefined {
  const value = p[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !UUID.test(value))
    throw AppError.validation(`${key} must be a UUID`);
  return value.toLowerCase();
}

export function parseSendMessage(payload: unknown): SendInput {
  const p = record(payload);
  onlyKnownKeys(p, SEND_KEYS);
  const { clientMsgId, type, body } = p;
  if (typeof clientMsgId !== 'string' || !UUID.test(clientMsgId))
    throw AppError.validation('clientMsgId must be a UUID');
  const conversationId = optionalUuid(p, 'conversationId');
  const recipientId = optionalUuid(p, 'recipientId');
  if (conversationId === undefined && recipientId === undefined) {
    throw AppError.validation('conversationId (or recipientId) must be a UUID');
  }
  const forwardOf = optionalUuid(p, 'forwardOf');
  // A forward may leave the type out: the forwarded message's is taken.
  const typeGiven = type !== undefined && type !== null;
  if ((typeGiven || forwardOf === undefined) && (typeof type !== 'string' || !TYPES.has(type))) {
    throw AppError.validation(
      `type must be one of the following values: ${SENDABLE_MESSAGE_TYPES.join(', ')}`,
    );
  }
  const sendType = typeGiven ? (type as SendableMessageType) : undefined;
  if (body !== undefined && body !== null && typeof body !== 'string')
    throw AppError.validation('body must be a string');
  const envelopes = parseEnvelopes(p.envelopes);
  const needsBody =
    (sendType === 'text' && forwardOf === undefined && envelopes === undefined) ||
    sendType === 'edit' ||
    sendType === 'reaction';
  if (needsBody && typeof body !== 'string') throw AppError.validation('body must be a string');
  const mediaId = optionalUuid(p, 'mediaId');
  if (
    mediaId === undefined &&
    sendType !== undefined &&
    isMediaMessageType(sendType) &&
    forwardOf === undefined
  ) {
    throw AppError.validation('mediaId must be the id of an uploaded media');
  }
  const targetId = optionalUuid(p, 'targetId');
  if (targetId === undefined && sendType !== undefined && isTargetMessageType(sendType)) {
    throw AppError.validation('targetId must be the id of a message');
  }
  const { viewOnce } = p;
  if (viewOnce !== undefined && viewOnce !== null && typeof viewOnce !== 'boolean') {
    throw AppError.validation('viewOnce must be a boolean value');
  }
  return {
    clientMsgId: clientMsgId.toLowerCase(),
    conversationId,
    recipientId,
    type: sendType,
    body: typeof body === 'string' ? body : undefined,
    mediaId,
    viewOnce: typeof viewOnce === 'boolean' ? viewOnce : undefined,
    replyToId: optionalUuid(p, 'replyToId'),
    targetId,
    forwardOf,
    envelopes,
  };
}

/** The envelopes as the DTO accepts them: absent or null, or 1..MAX_ENVELOPES of { deviceId, body }. */
function parseEnvelopes(value: unknown): MessageEnvelope[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw AppError.validation('envelopes must be an array');
  if (value.length < 1) throw AppError.validation('envelopes must contain at least 1 elements');
  if (value.length > MAX_ENVELOPES)
    throw AppError.validation(`envelopes must contain no more than ${MAX_ENVELOPES} elements`);
  return value.map((item: unknown) => {
    const e = record(item);
    onlyKnownKeys(e, ENVELOPE_KEYS);
    if (typeof e.deviceId !== 'string' || !UUID.test(e.deviceId))
      throw AppError.validation('envelopes: deviceId must be a UUID');
    if (typeof e.body !== 'string') throw AppError.validation('envelopes: body must be a string');
    return { deviceId: e.deviceId.toLowerCase(), body: e.body };
  });
}

export interface AckInput {
  conversationId: string;
  seq: number;
  status: 'delivered' | 'read';
}

export function parseAck(payload: unknown): AckInput {
  const p = record(payload);
  onlyKnownKeys(p, ACK_KEYS);
  const { conversationId, seq, status } = p;
  if (typeof conversationId !== 'string' || !UUID.test(conversationId)) {
    throw AppError.validation('conversationId must be a UUID');
  }
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) {
    throw AppError.validation('seq must be an integer not less than 0');
  }
  if (status !== 'delivered' && status !== 'read') {
    throw AppError.validation('status must be one of the following values: delivered, read');
  }
  return { conversationId: conversationId.toLowerCase(), seq, status };
}
