import type { PendingRange } from '../domain/conversation';
import type { AppendResult, MessageDraft, StoredMessage } from '../domain/message';

export interface HistoryQuery {
  conversationId: string;
  /** Visible window of the viewer: (minSeqExclusive, maxSeq]. */
  minSeqExclusive: number;
  maxSeq: number;
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
  viewerId: string;
}

export interface PendingQuery {
  limit: number;
  /** Messages this device sent itself are never offered back to it. */
  deviceId: string;
  viewerId: string;
}

/**
 * Where messages live: one stored copy each, whatever the audience. Free of SQL so that
 * another store (Cassandra/ScyllaDB) can stand behind it.
 */
export abstract class MessageRepository {
  /**
   * Stores the drafts, assigning each conversation's next seqs gaplessly in draft order.
   * A draft whose (senderId, clientMsgId) is already stored, or appears earlier in the
   * same call, yields the original with `duplicate: true`. In the same transaction, a
   * draft is refused if its conversation does not exist, its sender is not an active
   * member, or the group lets only admins send and the sender is not one; a refused
   * draft takes no seq. Results follow draft order.
   */
  abstract append(drafts: readonly MessageDraft[]): Promise<AppendResult[]>;
  abstract findById(id: string): Promise<StoredMessage | null>;
  abstract findBySenderAndClientId(
    senderId: string,
    clientMsgId: string,
  ): Promise<StoredMessage | null>;
  /** A page of history in ascending seq; fetches `limit + 1` to tell whether there is more. */
  abstract history(query: HistoryQuery): Promise<{ messages: StoredMessage[]; hasMore: boolean }>;
  /** Oldest first within each range, ranges in the given order, at most `limit` in all. */
  abstract pending(ranges: readonly PendingRange[], query: PendingQuery): Promise<StoredMessage[]>;
  /** The newest message visible to the viewer at or below each range's untilSeq. */
  abstract latestVisible(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, StoredMessage>>;
  /** Messages in each range not sent by the viewer (and not withheld from them). */
  abstract countFromOthers(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, number>>;
  /**
   * Distinct senders of the user messages in (afterSeq, untilSeq]; with a viewer, those
   * withheld from the viewer are left out (a blocked sender learns nothing from acks).
   */
  abstract sendersBetween(
    conversationId: string,
    afterSeq: number,
    untilSeq: number,
    viewerId?: string,
  ): Promise<string[]>;
  /**
   * Of these messages, the ids the user can see, in one query: a member when it was sent
   * and not removed before it, and not withheld from them.
   */
  abstract visibleTo(userId: string, messageIds: readonly string[]): Promise<string[]>;
  /** Deletes up to `batchSize` messages created before `before`; returns how many. */
  abstract deleteCreatedBefore(before: Date, batchSize: number): Promise<number>;
}
