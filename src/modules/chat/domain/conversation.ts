export type ConversationType = 'direct' | 'group';
export type MemberRole = 'creator' | 'admin' | 'member';
export type ReceiptStatus = 'delivered' | 'read';

export interface Conversation {
  id: string;
  type: ConversationType;
  name: string | null;
  description: string;
  createdBy: string;
  onlyAdminsCanSend: boolean;
  onlyAdminsCanEditInfo: boolean;
  /** Disappearing messages: 0 (off) or the lifetime of later messages in seconds. */
  disappearAfterSec: number;
  memberCount: number;
  lastSeq: number;
  lastMessageAt: Date | null;
  createdAt: Date;
}

export interface Membership {
  conversationId: string;
  userId: string;
  role: MemberRole;
  joinedAt: Date;
  /** Messages with seq above this are visible to the member. */
  joinedSeq: number;
  /** Set when the member left or was removed: the last seq they may see. */
  leftSeq: number | null;
  /** A former member's view of the group when they left: its name and member count. */
  leftName: string | null;
  leftMemberCount: number | null;
  deliveredSeq: number;
  readSeq: number;
  /** No message pushes for this conversation before this time (null: not muted). */
  mutedUntil: Date | null;
}

/** An active member as the push decision sees them. */
export interface PushMember {
  userId: string;
  joinedSeq: number;
  readSeq: number;
  mutedUntil: Date | null;
}

/** The caller's row in the conversation list, with the peers' lowest watermarks. */
export interface ConversationSummary {
  conversation: Conversation;
  membership: Membership;
  /** For direct conversations: the other user. */
  peerId: string | null;
  peerDeliveredSeq: number;
  /** Lowest read watermark among members who share read receipts; 0 if any does not. */
  peerReadSeq: number;
}

/** A contiguous run of seqs a device still has to receive: (afterSeq, untilSeq]. */
export interface PendingRange {
  conversationId: string;
  afterSeq: number;
  untilSeq: number;
}

export interface WatermarkAdvance {
  previousDelivered: number;
  previousRead: number;
  delivered: number;
  read: number;
  at: Date;
}

export interface MemberReceipt {
  userId: string;
  joinedSeq: number;
  leftSeq: number | null;
  deliveredSeq: number;
  readSeq: number;
  readReceipts: boolean;
  deliveredAt: Date | null;
  readAt: Date | null;
}

/** The lifetimes a conversation's disappearing messages may have (0 turns them off). */
export const DISAPPEAR_AFTER_SEC_VALUES = [0, 86_400, 604_800, 7_776_000] as const;
export type DisappearAfterSec = (typeof DISAPPEAR_AFTER_SEC_VALUES)[number];

/** The JSON body of the system message that records a change of the timer. */
export interface DisappearingChangedEvent {
  event: 'disappearing_changed';
  actorId: string;
  disappearAfterSec: number;
}
