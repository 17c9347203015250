import type { StoredMessage } from '../domain/message';
import type {
  Conversation,
  ConversationSummary,
  MemberReceipt,
  Membership,
  PendingRange,
  PushMember,
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

/** The outcome of a change of a conversation's disappearing-messages timer. */
export type DisappearingChange =
  | { kind: 'changed'; conversation: Conversation; message: StoredMessage | null }
  | { kind: 'rejected'; reason: 'conversation_not_found' | 'not_a_member' | 'admin_only' };

/** One ack of a member's device: everything up to `seq` is delivered to (or read by) them. */
export interface AckInput {
  conversationId: string;
  userId: string;
  deviceId: string;
  seq: number;
  status: ReceiptStatus;
}

/** A position in a user's conversation list: last activity (microseconds since epoch) and id. */
export interface ConversationListKey {
  activityMicros: string;
  id: string;
}

/** Conversations, memberships, watermarks and per-device delivery positions. */
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
  async advance(input: AckInput & { at: Date }): Promise<WatermarkAdvance | null> {
    const [result] = await this.advanceMany([input], input.at);
    return result;
  }
  /**
   * Applies many acks at once, as `advance` would one after another, with constant cost
   * whatever their number: per (member, conversation) the watermarks move once to where
   * all of its acks take them, per (device, conversation) the position once. Each input
   * gets that member's advance over the whole call (`previous*` before it, the rest
   * after it, all at `at`), or null where `advance` would refuse it.
   */
  abstract advanceMany(
    inputs: readonly AckInput[],
    at: Date,
  ): Promise<Array<WatermarkAdvance | null>>;
  /**
   * Conversations where a device has messages it has not acked, with the seq range
   * (for a former member, up to where they left).
   */
  abstract pendingRanges(userId: string, deviceId: string): Promise<PendingRange[]>;
  /** The conversation's last seq and its active members; null if it does not exist. */
  abstract pushMembers(
    conversationId: string,
  ): Promise<{ lastSeq: number; members: PushMember[] } | null>;
  /** The delivered position of each of these devices that has one in the conversation. */
  abstract devicePositions(
    conversationId: string,
    deviceIds: readonly string[],
  ): Promise<Map<string, number>>;
  /** Sets an active member's mute; false if they are not an active member. */
  abstract setMutedUntil(
    conversationId: string,
    userId: string,
    until: Date | null,
  ): Promise<boolean>;
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
  /**
   * Sets the disappearing-messages timer, with the conversation row locked: only an active
   * member may, and in a group whose info only admins may edit, only an admin. A new value
   * appends a `system` message (a DisappearingChangedEvent, from the actor's device) in the
   * same transaction; the value it had already changes nothing (message null).
   */
  abstract setDisappearing(
    conversationId: string,
    actor: { userId: string; deviceId: string },
    disappearAfterSec: number,
  ): Promise<DisappearingChange>;
  /** Which of `otherIds` are active members of at least one conversation `userId` is active in. */
  /** Users who are active members of some conversation the user is an active member of. */
  abstract partnersOf(userId: string): Promise<string[]>;
  abstract sharedWith(userId: string, otherIds: readonly string[]): Promise<Set<string>>;
}
