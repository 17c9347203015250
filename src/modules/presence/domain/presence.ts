import type { PresenceEvent } from '../../../common/realtime/socket-events';
import type { LastSeenPrivacy } from '../../users/domain/user';

/** Ids a single presence:subscribe (or unsubscribe) may carry. */
export const MAX_IDS_PER_REQUEST = 500;

/** What a viewer is shown: the protocol's `{ userId, online, lastSeen }`, nulls when hidden. */
export type PresenceView = PresenceEvent;

/** Raw presence of a user before privacy is applied. */
export interface RawPresence {
  online: boolean;
  lastSeen: Date | null;
}

/** The facts that decide whether a viewer may see a target's online status and last seen. */
export interface VisibilityFacts {
  targetId: string;
  viewerId: string;
  targetPrivacy: LastSeenPrivacy;
  viewerPrivacy: LastSeenPrivacy;
  /** The target has the viewer's phone in their contacts. */
  targetHasViewerInContacts: boolean;
  targetBlockedViewer: boolean;
}

/**
 * One rule for both `online` and `lastSeen`: whoever may see one may see the other. Showing
 * `online` to someone denied `lastSeen` would leak it anyway, because a pushed
 * online -> offline change is a last-seen time.
 *
 * - Users always see themselves.
 * - A target who blocked the viewer is hidden from them.
 * - Reciprocity: a viewer whose own setting is `nobody` sees nobody's presence.
 * - Otherwise the target's setting decides: `everyone`, `contacts` (the target has the
 *   viewer's phone), or `nobody`.
 */
export function isPresenceVisible(facts: VisibilityFacts): boolean {
  if (facts.targetId === facts.viewerId) return true;
  if (facts.targetBlockedViewer) return false;
  if (facts.viewerPrivacy === 'nobody') return false;
  switch (facts.targetPrivacy) {
    case 'everyone':
      return true;
    case 'contacts':
      return facts.targetHasViewerInContacts;
    case 'nobody':
      return false;
  }
}

export function hiddenPresence(userId: string): PresenceView {
  return { userId, online: null, lastSeen: null };
}

export function presenceView(userId: string, raw: RawPresence, visible: boolean): PresenceView {
  if (!visible) return hiddenPresence(userId);
  return { userId, online: raw.online, lastSeen: raw.lastSeen?.toISOString() ?? null };
}

export function sameView(a: PresenceView | null, b: PresenceView): boolean {
  return !!a && a.online === b.online && a.lastSeen === b.lastSeen;
}

/** The later of two last-seen times (either may be unknown). */
export function laterOf(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/**
 * Versions follow the clock but never go backwards, so a user's versions stay comparable
 * even after the store forgot an old state and started again.
 */
export function nextVersion(previous: number, now: number): number {
  return Math.max(now, previous + 1);
}
