import { AppError } from '../../../common/errors';
import type { CallMedia } from '../domain/call';
import type { InviteInput } from '../calls.service';

/** The largest `call:signal` data, as serialized JSON in UTF-8 bytes. */
export const MAX_SIGNAL_BYTES = 65_536;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MEDIA: ReadonlySet<string> = new Set<CallMedia>(['audio', 'video']);

function record(payload: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw AppError.validation('Payload must be a JSON object');
  }
  const p = payload as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!allowed.includes(key))
      throw AppError.validation(`${key}: property ${key} should not exist`);
  }
  return p;
}

function uuid(p: Record<string, unknown>, key: string): string {
  const value = p[key];
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw AppError.validation(`${key} must be a UUID`);
  }
  return value.toLowerCase();
}

export function parseInvite(payload: unknown): InviteInput {
  const p = record(payload, ['calleeId', 'conversationId', 'media']);
  const hasCallee = p.calleeId !== undefined && p.calleeId !== null;
  const hasConversation = p.conversationId !== undefined && p.conversationId !== null;
  if (hasCallee === hasConversation) {
    throw AppError.validation('Give exactly one of calleeId and conversationId');
  }
  if (typeof p.media !== 'string' || !MEDIA.has(p.media)) {
    throw AppError.validation('media must be "audio" or "video"');
  }
  return {
    calleeId: hasCallee ? uuid(p, 'calleeId') : undefined,
    conversationId: hasConversation ? uuid(p, 'conversationId') : undefined,
    media: p.media as CallMedia,
  };
}

/** `call:accept`, `call:reject`, `call:cancel`, `call:hangup`: `{ callId }`. */
export function parseCallId(payload: unknown): { callId: string } {
  return { callId: uuid(record(payload, ['callId']), 'callId') };
}

export function parseSignal(payload: unknown): {
  callId: string;
  toDeviceId: string;
  data: unknown;
} {
  const p = record(payload, ['callId', 'toDeviceId', 'data']);
  const callId = uuid(p, 'callId');
  const toDeviceId = uuid(p, 'toDeviceId');
  if (p.data === undefined || p.data === null) throw AppError.validation('data is required');
  const json = JSON.stringify(p.data);
  if (json.length > MAX_SIGNAL_BYTES / 4 && Buffer.byteLength(json, 'utf8') > MAX_SIGNAL_BYTES) {
    throw AppError.tooLarge(`data is larger than ${MAX_SIGNAL_BYTES} bytes of JSON`);
  }
  return { callId, toDeviceId, data: p.data };
}
