import type { MemberRole } from './conversation';
import {
  isMediaMessageType,
  isTargetMessageType,
  type StoredMessage,
  type TargetMessageType,
  type TargetRejection,
} from './message';

/** The limits an edit, delete or reaction is judged by (windows of 0 mean no limit). */
export interface TargetPolicy {
  editWindowMs: number;
  deleteWindowMs: number;
  maxReactionEmojis: number;
}

export const MAX_REACTION_EMOJIS = 20;
export const MAX_REACTION_BYTES = 32;

export const DEFAULT_TARGET_POLICY: TargetPolicy = {
  editWindowMs: 900_000,
  deleteWindowMs: 172_800_000,
  maxReactionEmojis: MAX_REACTION_EMOJIS,
};

/** Who sends the event, as the write transaction sees them under the conversation lock. */
export interface TargetActor {
  userId: string;
  role: MemberRole;
  joinedSeq: number;
  conversationType: 'direct' | 'group';
}

export interface TargetAction {
  type: TargetMessageType;
  conversationId: string;
  body: string;
}

/**
 * Whether the actor may apply this edit, delete or reaction to the target (as it stands
 * now, earlier events of the same batch applied); null when allowed. A target the actor
 * cannot read (another conversation, before they joined, withheld, already deleted) is
 * reported as not found, so the answer does not reveal that it exists.
 */
export function judgeTargetAction(
  action: TargetAction,
  actor: TargetActor,
  target: StoredMessage | null,
  now: Date,
  policy: TargetPolicy,
): TargetRejection | null {
  if (
    !target ||
    target.conversationId !== action.conversationId ||
    target.seq <= actor.joinedSeq ||
    target.withheldFrom === actor.userId ||
    target.deletedAt
  ) {
    return 'target_not_found';
  }
  if (isTargetMessageType(target.type) || target.type === 'system') return 'target_invalid';
  const age = now.getTime() - target.createdAt.getTime();
  switch (action.type) {
    case 'edit':
      if (target.senderId !== actor.userId) return 'target_forbidden';
      // A text needs text; a media's caption may be cleared.
      if (target.type === 'text' && !action.body) return 'target_invalid';
      if (target.type !== 'text' && !isMediaMessageType(target.type)) return 'target_invalid';
      return withinWindow(age, policy.editWindowMs) ? null : 'target_window_closed';
    case 'delete': {
      const admin = actor.conversationType === 'group' && actor.role !== 'member';
      if (admin) return null;
      if (target.senderId !== actor.userId) return 'target_forbidden';
      return withinWindow(age, policy.deleteWindowMs) ? null : 'target_window_closed';
    }
    case 'reaction':
      return null;
  }
}

function withinWindow(ageMs: number, windowMs: number): boolean {
  return windowMs <= 0 || ageMs <= windowMs;
}

/** Code points an emoji may be built of (besides the pictograph itself). */
const EMOJI_PARTS =
  /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200D|\uFE0F|\uFE0E|\u20E3|[\u{E0020}-\u{E007F}])+$/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
const FLAG = /^\p{Regional_Indicator}{2}$/u;
const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * One emoji: a single grapheme of at most 32 UTF-8 bytes that is a pictograph (with its
 * modifiers, joiners and tags), a regional-indicator flag, or a keycap.
 */
export function isSingleEmoji(text: string): boolean {
  if (!text || Buffer.byteLength(text, 'utf8') > MAX_REACTION_BYTES) return false;
  const segments = graphemes.segment(text)[Symbol.iterator]();
  segments.next();
  if (!segments.next().done) return false;
  if (KEYCAP.test(text) || FLAG.test(text)) return true;
  return EMOJI_PARTS.test(text) && PICTOGRAPH.test(text);
}

/**
 * The reactions a message would have after a member's reaction: one per member, a new
 * one replacing theirs, "" removing it. Null when it would exceed `maxEmojis` distinct
 * emojis (a member moving to an emoji already there never does).
 */
export function applyReaction(
  current: ReadonlyMap<string, string>,
  userId: string,
  emoji: string,
  maxEmojis: number,
): Map<string, string> | null {
  const next = new Map(current);
  if (!emoji) {
    next.delete(userId);
    return next;
  }
  next.set(userId, emoji);
  const distinct = new Set(next.values());
  if (distinct.size > maxEmojis && distinct.size > new Set(current.values()).size) return null;
  return next;
}
