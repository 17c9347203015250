import type { PendingRange } from '../domain/conversation';
import type {
  AppendResult,
  MessageDraft,
  MessageWithReactions,
  PurgedMessage,
  StarredMessage,
  StoredMessage,
} from '../domain/message';
import type { TargetPolicy } from '../domain/message-rules';

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

/** A seq range (afterSeq, untilSeq] of a conversation, read for one viewer. */
export interface SendersRange {
  conversationId: string;
  afterSeq: number;
  untilSeq: number;
  viewerId?: string;
}

/** Where a page of the starred list continues: after this (starredAt, messageId). */
export interface StarredCursor {
  starredAt: Date;
  messageId: string;
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
 *
 * Every read for a viewer (history, pending, latestVisible, countFromOthers, starred)
 * leaves out messages whose `expiresAt` has passed (the purge job may not have run yet)
 * and messages the viewer hid for themself.
 */
export abstract class MessageRepository {
  /**
   * Stores the drafts, assigning each conversation's next seqs gaplessly in draft order.
   * A draft whose (senderId, clientMsgId) is already stored, or appears earlier in the
   * same call, yields the original with `duplicate: true`. In the same transaction, a
   * draft is refused if its conversation does not exist, its sender is not an active
   * member, or the group lets only admins send and the sender is not one; a refused
   * draft takes no seq. A stored draft gets `expiresAt` = its `createdAt` plus the
   * conversation's disappearing timer when the timer is on. Results follow draft order.
   *
   * Edits, deletes and reactions (drafts with a `targetId`) are judged against their
   * target by the policy in the same transaction (an event sees the batch's earlier
   * events applied), refused with a `target_*` or `too_many_reactions` reason, and their
   * effect on the target (edited body and `editedAt`; a tombstone with body and media
   * null and its edits and reactions emptied; one reaction per member) is written in it.
   *
   * A draft with `envelopes` is stored with `e2e` true and an empty body, and each
   * envelope once, in the same transaction; a deleted target loses its envelopes.
   */
  abstract append(drafts: readonly MessageDraft[], policy?: TargetPolicy): Promise<AppendResult[]>;
  abstract findById(id: string): Promise<StoredMessage | null>;
  abstract findBySenderAndClientId(
    senderId: string,
    clientMsgId: string,
  ): Promise<StoredMessage | null>;
  /**
   * A page of history in ascending seq, each message with its current reactions; fetches
   * `limit + 1` to tell whether there is more.
   */
  abstract history(
    query: HistoryQuery,
  ): Promise<{ messages: MessageWithReactions[]; hasMore: boolean }>;
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
   * `sendersBetween` for many ranges at once, results in range order. Adapters that can
   * answer in one query should; this default asks range by range.
   */
  sendersInRanges(ranges: readonly SendersRange[]): Promise<string[][]> {
    return Promise.all(
      ranges.map((r) => this.sendersBetween(r.conversationId, r.afterSeq, r.untilSeq, r.viewerId)),
    );
  }
  /**
   * Of these messages, the ids the user can see, in one query: a member when it was sent
   * and not removed before it, and not withheld from them.
   */
  abstract visibleTo(userId: string, messageIds: readonly string[]): Promise<string[]>;
  /** Deletes up to `batchSize` messages created before `before`; returns how many. */
  abstract deleteCreatedBefore(before: Date, batchSize: number): Promise<number>;
  /** Deletes up to `batchSize` messages whose expiry is at or before `now`; returns them. */
  abstract deleteExpired(now: Date, batchSize: number): Promise<PurgedMessage[]>;

  /** Each of these messages' envelope for the device, by message id (absent: none). */
  abstract envelopesFor(
    deviceId: string,
    messageIds: readonly string[],
  ): Promise<Map<string, string>>;
  /** Deletes every envelope addressed to a device (removed or logged out). */
  abstract deleteEnvelopesOf(deviceId: string): Promise<void>;

  /** Hides messages of one conversation from one user's reads ("delete for me"); idempotent. */
  abstract hide(
    userId: string,
    conversationId: string,
    messageIds: readonly string[],
  ): Promise<void>;
  /** Stars a message for a user; starring it again keeps the first time. */
  abstract star(userId: string, messageId: string, at: Date): Promise<void>;
  /** Removes a star; removing a missing one is a no-op. */
  abstract unstar(userId: string, messageId: string): Promise<void>;
  /** The user's starred messages, newest star first, after the cursor; at most `limit`. */
  abstract starred(
    userId: string,
    after: StarredCursor | null,
    limit: number,
  ): Promise<StarredMessage[]>;
}
