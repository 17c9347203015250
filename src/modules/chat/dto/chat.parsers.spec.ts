import fc from 'fast-check';
import { validateDto } from '../../../common/validation/validate';
import { AckDto, SendMessageDto } from './chat.dto';
import { parseAck, parseSendMessage } from './chat.parsers';

const uuid = '0193a4c2-1234-7abc-8def-0123456789ab';
const oneOf = <T>(...values: T[]) => fc.constantFrom(...values);
const absent = Symbol('absent');

function build(entries: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== absent) out[k] = v;
  return out;
}

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    expect((error as { code?: string }).code).toBe('VALIDATION_FAILED');
    return false;
  }
}

const idish = oneOf<unknown>(absent, null, uuid, uuid.toUpperCase(), 'not-a-uuid', '', 42, {}, []);

describe('hot-path parsers agree with the DTOs', () => {
  it('message:send', () => {
    fc.assert(
      fc.property(
        fc.record({
          clientMsgId: oneOf<unknown>(
            absent,
            null,
            uuid,
            uuid.toUpperCase(),
            'a',
            'x'.repeat(100),
            'x'.repeat(101),
            '',
            'has space',
            'a:b.c_d-e',
            7,
          ),
          conversationId: idish,
          recipientId: idish,
          type: oneOf<unknown>(
            absent,
            null,
            'text',
            'image',
            'video',
            'audio',
            'document',
            'system',
            'edit',
            'delete',
            'reaction',
            'TEXT',
            3,
          ),
          body: oneOf<unknown>(absent, null, '', 'hi', '👍', '€'.repeat(10), 5, ['x'], {}),
          mediaId: idish,
          viewOnce: oneOf<unknown>(absent, null, true, false, 'true', 1),
          replyToId: idish,
          targetId: idish,
          forwardOf: idish,
          extra: oneOf<unknown>(absent, absent, absent, 1, 'x'),
        }),
        (entries) => {
          const payload = build(entries);
          const parsed = accepts(() => parseSendMessage(payload));
          expect(parsed).toBe(accepts(() => validateDto(SendMessageDto, payload)));
          if (parsed) {
            // Both normalise ids the same way.
            const fast = parseSendMessage(payload);
            const dto = validateDto(SendMessageDto, payload);
            for (const key of [
              'clientMsgId',
              'conversationId',
              'recipientId',
              'mediaId',
              'replyToId',
              'targetId',
              'forwardOf',
            ] as const)
              expect(fast[key] ?? null).toBe(dto[key] ?? null);
          }
        },
      ),
      { numRuns: 6000 },
    );
  });

  it('message:ack', () => {
    fc.assert(
      fc.property(
        fc.record({
          conversationId: idish,
          seq: oneOf<unknown>(
            absent,
            null,
            0,
            1,
            42,
            -1,
            1.5,
            '3',
            Number.MAX_SAFE_INTEGER,
            Number.NaN,
          ),
          status: oneOf<unknown>(absent, null, 'delivered', 'read', 'sent', 'READ', 1),
          extra: oneOf<unknown>(absent, absent, 1),
        }),
        (entries) => {
          const payload = build(entries);
          expect(accepts(() => parseAck(payload))).toBe(
            accepts(() => validateDto(AckDto, payload)),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses non-objects', () => {
    for (const p of [null, undefined, 'x', 1, [], true]) {
      expect(accepts(() => parseSendMessage(p))).toBe(false);
      expect(accepts(() => parseAck(p))).toBe(false);
    }
  });

  it('returns the parsed fields, with null ids treated as absent', () => {
    expect(
      parseSendMessage({
        clientMsgId: uuid.toUpperCase(),
        recipientId: uuid.toUpperCase(),
        type: 'text',
        body: 'hi',
        mediaId: null,
      }),
    ).toEqual({
      clientMsgId: uuid,
      conversationId: undefined,
      recipientId: uuid,
      type: 'text',
      body: 'hi',
      mediaId: undefined,
      viewOnce: undefined,
      replyToId: undefined,
      targetId: undefined,
      forwardOf: undefined,
    });
    expect(
      parseSendMessage({ clientMsgId: uuid, conversationId: uuid, forwardOf: uuid, type: null }),
    ).toMatchObject({ type: undefined, forwardOf: uuid, body: undefined });
    expect(
      parseSendMessage({
        clientMsgId: uuid,
        conversationId: uuid,
        type: 'reaction',
        targetId: uuid,
        body: '',
      }),
    ).toMatchObject({ type: 'reaction', targetId: uuid, body: '' });
    expect(parseAck({ conversationId: uuid, seq: 3, status: 'read' })).toEqual({
      conversationId: uuid,
      seq: 3,
      status: 'read',
    });
  });
});
