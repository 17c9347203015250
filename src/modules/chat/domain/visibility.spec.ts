import type { Membership } from './conversation';
import type { StoredMessage } from './message';
import { canRead } from './visibility';

const now = new Date('2026-06-01T12:00:00Z');

const message = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  id: 'm1',
  conversationId: 'c1',
  seq: 10,
  senderId: 'alice',
  senderDeviceId: 'd1',
  clientMsgId: 'x',
  type: 'text',
  body: 'hi',
  mediaId: null,
  replyToId: null,
  withheldFrom: null,
  createdAt: new Date(now.getTime() - 1000),
  editedAt: null,
  deletedAt: null,
  expiresAt: null,
  ...over,
});

const member = (over: Partial<Membership> = {}): Membership => ({
  conversationId: 'c1',
  userId: 'bob',
  role: 'member',
  joinedAt: now,
  joinedSeq: 0,
  leftSeq: null,
  leftName: null,
  leftMemberCount: null,
  deliveredSeq: 0,
  readSeq: 0,
  mutedUntil: null,
  ...over,
});

describe('canRead', () => {
  it('lets a member read what was sent while they were in', () => {
    expect(canRead('bob', message(), member(), now)).toBe(true);
    expect(canRead('bob', message(), member({ leftSeq: 10 }), now)).toBe(true);
  });

  it('refuses non-members, messages before joining or after leaving, and withheld ones', () => {
    expect(canRead('bob', message(), null, now)).toBe(false);
    expect(canRead('bob', message(), member({ joinedSeq: 10 }), now)).toBe(false);
    expect(canRead('bob', message(), member({ leftSeq: 9 }), now)).toBe(false);
    expect(canRead('bob', message({ withheldFrom: 'bob' }), member(), now)).toBe(false);
  });

  it('refuses a message whose expiry has come, and only then', () => {
    expect(canRead('bob', message({ expiresAt: new Date(now.getTime() + 1) }), member(), now)).toBe(
      true,
    );
    expect(canRead('bob', message({ expiresAt: now }), member(), now)).toBe(false);
  });
});
