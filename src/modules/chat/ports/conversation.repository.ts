import type {
  Conversation,
  ConversationSummary,
  MemberReceipt,
  Membership,
  PendingRange,
  ReceiptStatus,
  WatermarkAdvance,
} from '../domain/conversation';

/** Who receives a conversation's messages live, as of one membership version. */
export interface Audience {
  type: 'direct' | 'group';
  membersVersion: number;
  /** Active members, with the seq after which each may see messages. */
  members: Array<{ userId: string; joinedSeq: number }>;
}

/** Conversations, memberships, watermarks and per-device delivery positions. */
/** A position in a user's conversation list: last activity (microseconds since epoch) and id. */
export interface ConversationListKey {
  activityMicros: string;
  id: string;
}

export abstract class ConversationRepository {
  abstract findById(id: string): Promise<Conversation | null>;
  /** The one direct conversation of a pair, created with both members on first use. */
  abstract getOrCreateDirect(
    id: string,
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }>;
  abstract findMembership(conversationId: string, userId: string): Promise<Membership | null>;
  /** The active members and membership version of a conversation; null if it does not exist. */
  abstract audience(conversationId: string): Promise<Audience | null>;
  /** The direct conversation of a pair, if it exists (never creates). */
  abstract findDirect(userA: string, userB: string): Promise<Conversation | null>;
  /** Most recent activity first, then by id. */
  abstract listForUser(userId: string): Promise<ConversationSummary[]>;
  /**
   * A page of `listForUser`'s order: up to `limit` entries after `after` (the key of the
   * previous page's last entry), each with its own key.
   */
  abstract listPageForUser(
    userId: string,
    after: ConversationListKey | null,
    limit: number,
  ): Promise<Array<{ summary: ConversationSummary; key: ConversationListKey }>>;
  abstract summaryFor(conversationId: string, userId: string): Promise<ConversationSummary | null>;
  /**
   * Applies an ack of a member's device: moves the member's watermarks (never backwards,
   * read implies delivered) and the device's position. A former member may ack up to the
   * seq where they left. Null if not a member, or the ack reaches past their departure.
   */
  abstract advance(input: {
    conversationId: string;
    userId: string;
    deviceId: string;
    seq: number;
    status: ReceiptStatus;
    at: Date;
  }): Promise<WatermarkAdvance | null>;
  /**
   * Conversations where a device has messages it has not acked, with the seq range
   * (for a former member, up to where they left).
   */
  abstract pendingRanges(userId: string, deviceId: string): Promise<PendingRange[]>;
  /** A new device starts at each conversation's current seq. */
  abstract initDevicePositions(userId: string, deviceId: string): Promise<void>;
  abstract deleteDevicePositions(deviceId: string): Promise<void>;
  abstract memberReceipts(conversationId: string): Promise<MemberReceipt[]>;
  /** When each user's watermark of `status` first reached `seq`. */
  abstract watermarkTimes(
    conversationId: string,
    status: ReceiptStatus,
    seq: number,
  ): Promise<Map<string, Date>>;
  abstract setReadReceipts(userId: string, enabled: boolean): Promise<void>;
  abstract readReceiptsOf(userIds: readonly string[]): Promise<Map<string, boolean>>;
  abstract deleteWatermarkTimesBefore(before: Date): Promise<number>;
  /** Which of `otherIds` are active members of at least one conversation `userId` is active in. */
  abstract sharedWith(userId: string, otherIds: readonly string[]): Promise<Set<string>>;
}
