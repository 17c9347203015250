import { AppError } from '../../../common/errors';
import { MAX_SIGNAL_BYTES, parseCallId, parseInvite, parseSignal } from './calls.parsers';

const ID = '0190a000-0000-7000-8000-00000000000a';
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'accepted';
};

describe('call:* parsers', () => {
  it('takes exactly one of calleeId and conversationId, and a known media', () => {
    expect(parseInvite({ calleeId: ID.toUpperCase(), media: 'video' })).toEqual({
      calleeId: ID,
      conversationId: undefined,
      media: 'video',
    });
    expect(parseInvite({ conversationId: ID, calleeId: null, media: 'audio' })).toEqual({
      calleeId: undefined,
      conversationId: ID,
      media: 'audio',
    });
    for (const bad of [
      null,
      [],
      'x',
      {},
      { media: 'audio' },
      { calleeId: ID, conversationId: ID, media: 'audio' },
      { calleeId: 'abc', media: 'audio' },
      { calleeId: ID, media: 'screen' },
      { calleeId: ID, media: 'audio', extra: true },
    ]) {
      expect(codeOf(() => parseInvite(bad))).toBe('VALIDATION_FAILED');
    }
  });

  it('takes a call id as a UUID and nothing else', () => {
    expect(parseCallId({ callId: ID })).toEqual({ callId: ID });
    expect(codeOf(() => parseCallId({ callId: 7 }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseCallId({ callId: ID, toDeviceId: ID }))).toBe('VALIDATION_FAILED');
  });

  it('relays any JSON data up to 64 KiB serialized, counted in UTF-8 bytes', () => {
    const data = { type: 'offer', sdp: 'v=0' };
    expect(parseSignal({ callId: ID, toDeviceId: ID, data })).toEqual({
      callId: ID,
      toDeviceId: ID,
      data,
    });
    expect(parseSignal({ callId: ID, toDeviceId: ID, data: 'candidate' }).data).toBe('candidate');
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: ID }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: ID, data: null }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: 'x', data }))).toBe(
      'VALIDATION_FAILED',
    );
    // A string that serializes to exactly the limit passes; one more byte does not.
    const fits = 'x'.repeat(MAX_SIGNAL_BYTES - 2);
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: ID, data: fits }))).toBe('accepted');
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: ID, data: `${fits}x` }))).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    // Multi-byte characters count by their UTF-8 size.
    const wide = 'é'.repeat(MAX_SIGNAL_BYTES / 2);
    expect(codeOf(() => parseSignal({ callId: ID, toDeviceId: ID, data: wide }))).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });
});
