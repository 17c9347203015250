import { uuidv7 } from 'uuidv7';
import type { StoredMessage } from './message';
import {
  applyReaction,
  DEFAULT_TARGET_POLICY,
  isSingleEmoji,
  judgeTargetAction,
  type TargetActor,
  type TargetPolicy,
} from './message-rules';

const conversationId = uuidv7();
const alice = uuidv7();
const bob = uuidv7();
const sentAt = new Date('2026-01-01T12:00:00Z');
const after = (sec: number) => new Date(sentAt.getTime() + sec * 1000);

function target(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: uuidv7(),
    conversationId,
    seq: 5,
    senderId: alice,
    senderDeviceId: uuidv7(),
    clientMsgId: 'c',
    type: 'text',
    body: 'hello',
    mediaId: null,
    replyToId: null,
    withheldFrom: null,
    createdAt: sentAt,
    editedAt: null,
    deletedAt: null,
    expiresAt: null,
    ...overrides,
  };
}

const member = (userId: string, overrides: Partial<TargetActor> = {}): TargetActor => ({
  userId,
  role: 'member',
  joinedSeq: 0,
  conversationType: 'group',
  ...overrides,
});

const policy: TargetPolicy = {
  editWindowMs: 900_000,
  deleteWindowMs: 3_600_000,
  maxReactionEmojis: 3,
};

const judge = (
  type: 'edit' | 'delete' | 'reaction',
  actor: TargetActor,
  t: StoredMessage | null,
  now = after(10),
  body = 'new text',
) => judgeTargetAction({ type, conversationId, body }, actor, t, now, policy);

describe('edit rules', () => {
  it('lets the sender edit a text or a media caption within the window', () => {
    expect(judge('edit', member(alice), target())).toBeNull();
    expect(judge('edit', member(alice), target({ type: 'image', mediaId: uuidv7() }))).toBeNull();
    expect(judge('edit', member(alice), target({ type: 'image' }), after(10), '')).toBeNull();
    expect(judge('edit', member(alice), target(), after(900))).toBeNull();
  });

  it('refuses others, late edits, empty texts and event targets', () => {
    expect(judge('edit', member(bob), target())).toBe('target_forbidden');
    expect(judge('edit', member(bob, { role: 'admin' }), target())).toBe('target_forbidden');
    expect(judge('edit', member(alice), target(), after(901))).toBe('target_window_closed');
    expect(judge('edit', member(alice), target(), after(10), '')).toBe('target_invalid');
    for (const type of ['edit', 'delete', 'reaction', 'system'] as const)
      expect(judge('edit', member(alice), target({ type }))).toBe('target_invalid');
  });

  it('has no time limit with a window of 0', () => {
    const open = { ...policy, editWindowMs: 0 };
    expect(
      judgeTargetAction(
        { type: 'edit', conversationId, body: 'x' },
        member(alice),
        target(),
        after(10 ** 7),
        open,
      ),
    ).toBeNull();
  });
});

describe('delete rules', () => {
  it('lets the sender delete within the window, and not after', () => {
    expect(judge('delete', member(alice), target(), after(3600))).toBeNull();
    expect(judge('delete', member(alice), target(), after(3601))).toBe('target_window_closed');
  });

  it("lets group admins and the creator delete anyone's message at any time", () => {
    expect(judge('delete', member(bob, { role: 'admin' }), target(), after(10 ** 6))).toBeNull();
    expect(judge('delete', member(bob, { role: 'creator' }), target(), after(10 ** 6))).toBeNull();
    expect(judge('delete', member(alice, { role: 'admin' }), target(), after(10 ** 6))).toBeNull();
  });

  it("refuses other members' messages, and admin rights mean nothing in a direct chat", () => {
    expect(judge('delete', member(bob), target())).toBe('target_forbidden');
    expect(
      judge('delete', member(bob, { role: 'creator', conversationType: 'direct' }), target()),
    ).toBe('target_forbidden');
  });
});

describe('target visibility', () => {
  it('reports targets the actor cannot read as not found', () => {
    expect(judge('reaction', member(bob), null)).toBe('target_not_found');
    expect(judge('reaction', member(bob), target({ conversationId: uuidv7() }))).toBe(
      'target_not_found',
    );
    expect(judge('reaction', member(bob, { joinedSeq: 5 }), target())).toBe('target_not_found');
    expect(judge('reaction', member(bob), target({ withheldFrom: bob }))).toBe('target_not_found');
    expect(judge('delete', member(alice), target({ deletedAt: after(1) }))).toBe(
      'target_not_found',
    );
    expect(judge('reaction', member(bob), target())).toBeNull();
  });

  it('uses the documented defaults', () => {
    expect(DEFAULT_TARGET_POLICY).toEqual({
      editWindowMs: 900_000,
      deleteWindowMs: 172_800_000,
      maxReactionEmojis: 20,
    });
  });
});

describe('isSingleEmoji', () => {
  it.each(['👍', '👍🏽', '❤️', '👨‍👩‍👧‍👦', '🇫🇷', '1️⃣', '#⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🫠', '©️'])('accepts %s', (e) => {
    expect(isSingleEmoji(e)).toBe(true);
  });

  it.each([
    '',
    'a',
    '1',
    'ab',
    '👍👍',
    '👍 ',
    ' 👍',
    '🇫',
    '🇫🇷🇩🇪',
    'a\u0301',
    '👍a',
    '\u200D',
    '\uFE0F',
  ])('refuses %j', (e) => {
    expect(isSingleEmoji(e)).toBe(false);
  });

  it('refuses one grapheme longer than 32 bytes', () => {
    const family = '👨‍👩‍👧‍👦';
    const long = `${family}\u200D${family}`;
    expect(Buffer.byteLength(long)).toBeGreaterThan(32);
    expect(isSingleEmoji(long)).toBe(false);
  });
});

describe('applyReaction', () => {
  const start = new Map([
    [alice, '👍'],
    [bob, '❤️'],
  ]);

  it('keeps one reaction per member: a new one replaces it, "" removes it', () => {
    expect(applyReaction(start, alice, '😂', 3)).toEqual(
      new Map([
        [alice, '😂'],
        [bob, '❤️'],
      ]),
    );
    expect(applyReaction(start, alice, '', 3)).toEqual(new Map([[bob, '❤️']]));
    expect(applyReaction(new Map(), alice, '', 3)).toEqual(new Map());
  });

  it('refuses an emoji beyond the distinct limit, but not joining one already there', () => {
    const full = new Map([...start, [uuidv7(), '😂']]);
    expect(applyReaction(full, uuidv7(), '🔥', 3)).toBeNull();
    expect(applyReaction(full, uuidv7(), '👍', 3)?.size).toBe(4);
    // Swapping one's own emoji for a new one keeps the count when it was the only one.
    expect(applyReaction(full, alice, '🔥', 3)?.get(alice)).toBe('🔥');
  });
});
