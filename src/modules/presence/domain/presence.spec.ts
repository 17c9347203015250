import type { LastSeenPrivacy } from '../../users/domain/user';
import {
  hiddenPresence,
  isPresenceVisible,
  laterOf,
  nextVersion,
  presenceView,
  sameView,
  type VisibilityFacts,
} from './presence';

const facts = (overrides: Partial<VisibilityFacts> = {}): VisibilityFacts => ({
  targetId: 'target',
  viewerId: 'viewer',
  targetPrivacy: 'everyone',
  viewerPrivacy: 'everyone',
  targetHasViewerInContacts: false,
  targetBlockedViewer: false,
  ...overrides,
});

describe('isPresenceVisible', () => {
  const settings: LastSeenPrivacy[] = ['everyone', 'contacts', 'nobody'];
  const matrix = settings.flatMap((targetPrivacy) =>
    [true, false].flatMap((inContacts) =>
      settings.map((viewerPrivacy) => ({
        targetPrivacy,
        inContacts,
        viewerPrivacy,
        expected:
          viewerPrivacy !== 'nobody' &&
          (targetPrivacy === 'everyone' || (targetPrivacy === 'contacts' && inContacts)),
      })),
    ),
  );

  it.each(matrix)(
    'target $targetPrivacy, in contacts $inContacts, viewer $viewerPrivacy -> $expected',
    ({ targetPrivacy, inContacts, viewerPrivacy, expected }) => {
      expect(
        isPresenceVisible(
          facts({ targetPrivacy, viewerPrivacy, targetHasViewerInContacts: inContacts }),
        ),
      ).toBe(expected);
    },
  );

  it('hides a target from a viewer they blocked, whatever the settings', () => {
    expect(
      isPresenceVisible(facts({ targetBlockedViewer: true, targetHasViewerInContacts: true })),
    ).toBe(false);
  });

  it('always shows users themselves', () => {
    expect(
      isPresenceVisible(
        facts({
          viewerId: 'target',
          targetPrivacy: 'nobody',
          viewerPrivacy: 'nobody',
          targetBlockedViewer: true,
        }),
      ),
    ).toBe(true);
  });
});

describe('presence views', () => {
  const seen = new Date('2026-01-02T03:04:05.000Z');

  it('shows both fields or hides both', () => {
    expect(presenceView('u', { online: false, lastSeen: seen }, true)).toEqual({
      userId: 'u',
      online: false,
      lastSeen: '2026-01-02T03:04:05.000Z',
    });
    expect(presenceView('u', { online: true, lastSeen: null }, true)).toEqual({
      userId: 'u',
      online: true,
      lastSeen: null,
    });
    expect(presenceView('u', { online: true, lastSeen: seen }, false)).toEqual(hiddenPresence('u'));
  });

  it('compares views by their values', () => {
    const view = presenceView('u', { online: false, lastSeen: seen }, true);
    expect(sameView(null, view)).toBe(false);
    expect(sameView({ ...view }, view)).toBe(true);
    expect(sameView({ ...view, online: true }, view)).toBe(false);
    expect(sameView(hiddenPresence('u'), view)).toBe(false);
  });

  it('keeps the later last-seen time', () => {
    const later = new Date(seen.getTime() + 1);
    expect(laterOf(null, null)).toBeNull();
    expect(laterOf(seen, null)).toBe(seen);
    expect(laterOf(null, seen)).toBe(seen);
    expect(laterOf(seen, later)).toBe(later);
    expect(laterOf(later, seen)).toBe(later);
  });

  it('never moves versions backwards, even when the clock does', () => {
    expect(nextVersion(0, 1000)).toBe(1000);
    expect(nextVersion(1000, 1000)).toBe(1001);
    expect(nextVersion(5000, 1000)).toBe(5001);
  });
});
