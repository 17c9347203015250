import { Injectable } from '@nestjs/common';
import { Db, type SqlRunner } from '../../../../common/database/db';
import type { PendingRange } from '../../domain/conversation';
import type { MemberRole } from '../../domain/conversation';
import {
  isTargetMessageType,
  type AppendRejection,
  type AppendResult,
  type MessageDraft,
  type MessageType,
  type MessageWithReactions,
  type PurgedMessage,
  type ReactionSummary,
  type StarredMessage,
  type StoredMessage,
} from '../../domain/message';
import {
  applyReaction,
  DEFAULT_TARGET_POLICY,
  judgeTargetAction,
  type TargetActor,
  type TargetPolicy,
} from '../../domain/message-rules';
import {
  MessageRepository,
  type SendersRange,
  type HistoryQuery,
  type PendingQuery,
  type StarredCursor,
} from '../../ports/message.repository';

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender_device_id: string;
  client_msg_id: string;
  type: MessageType;
  body: string | null;
  media_id: string | null;
  target_id: string | null;
  forward_score: number;
  view_once: boolean;
  reply_to_id: string | null;
  withheld_from: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  expires_at: Date | null;
  e2e: boolean;
}

const cols = `m.id, m.conversation_id, m.seq, m.sender_id, m.sender_device_id, m.client_msg_id, m.type,
  m.body, m.media_id, m.target_id, m.forward_score, m.view_once, m.reply_to_id, m.withheld_from, m.created_at, m.edited_at, m.deleted_at,
  m.expires_at, m.e2e`;

/**
 * What a viewer never reads: an expired message (before the purge job removes it) and one
 * they deleted for themself. `alias` is the messages row, `$viewer` the viewer's parameter.
 */
const readableBy = (alias: string, viewer: string) =>
  `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())
   AND NOT EXISTS (SELECT 1 FROM message_hidden h WHERE h.user_id = ${viewer} AND h.message_id = ${alias}.id)`;

export function toMessage(r: MessageRow): StoredMessage {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    seq: r.seq,
    senderId: r.sender_id,
    senderDeviceId: r.sender_device_id,
    clientMsgId: r.client_msg_id,
    type: r.type,
    body: r.body,
    mediaId: r.media_id,
    targetId: r.target_id,
    forwardScore: r.forward_score,
    viewOnce: r.view_once,
    replyToId: r.reply_to_id,
    withheldFrom: r.withheld_from,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
    expiresAt: r.expires_at,
    e2e: r.e2e,
  };
}

/**
 * Each message's reactions, grouped by emoji in the order each emoji was first used;
 * `rows` come oldest first.
 */
export function summarizeReactions(
  rows: ReadonlyArray<{ messageId: string; userId: string; emoji: string }>,
): Map<string, ReactionSummary[]> {
  const out = new Map<string, ReactionSummary[]>();
  for (const row of rows) {
    let list = out.get(row.messageId);
    if (!list) out.set(row.messageId, (list = []));
    let entry = list.find((r) => r.emoji === row.emoji);
    if (!entry) list.push((entry = { emoji: row.emoji, userIds: [] }));
    entry.userIds.push(row.userId);
  }
  return out;
}

export const dedupeKey = (senderId: string, clientMsgId: string) =>
  `${senderId}\u0000${clientMsgId}`;
const RETRYABLE = new Set(['23505', '40P01', '40001']);

function rangeArrays(ranges: readonly PendingRange[]): [string[], number[], number[]] {
  return [
    ranges.map((r) => r.conversationId),
    ranges.map((r) => r.afterSeq),
    ranges.map((r) => r.untilSeq),
  ];
}

/** What a batch's edits, deletes and reactions do to their targets. */
export interface TargetEffects {
  rejected: Map<MessageDraft, AppendRejection>;
  /** Target id -> its final body. */
  edits: Map<string, string>;
  deletes: Set<string>;
  /** Target id -> member -> emoji, as it stands after the batch. */
  reactions: Map<string, Map<string, string>>;
  /** "target:member" -> the last reaction draft of the batch for it. */
  reactionDrafts: Map<string, MessageDraft>;
}

@Injectable()
export class MessagePostgresRepository extends MessageRepository {
  constructor(private readonly db: Db) {
    super();
  }

  /**
   * One transaction per batch, whatever its size or audience: a dedupe lookup, the
   * conversation rows locked in id order (so concurrent batches cannot deadlock) with
   * their settings and membership version, one membership check for all senders, one seq
   * allocation and one multi-row insert. A concurrent duplicate or deadlock retries the batch.
   */
  async append(
    drafts: readonly MessageDraft[],
    policy: TargetPolicy = DEFAULT_TARGET_POLICY,
  ): Promise<AppendResult[]> {
    if (!drafts.length) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.appendIn(tx, drafts, policy));
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 4 || !code || !RETRYABLE.has(code)) throw error;
      }
    }
  }

  private async appendIn(
    tx: SqlRunner,
    drafts: readonly MessageDraft[],
    policy: TargetPolicy,
  ): Promise<AppendResult[]> {
    const known = new Map<string, StoredMessage>();
    for (const m of await this.findOriginals(tx, drafts))
      known.set(dedupeKey(m.senderId, m.clientMsgId), m);

    let candidates: MessageDraft[] = [];
    const seen = new Set<string>();
    for (const d of drafts) {
      const key = dedupeKey(d.senderId, d.clientMsgId);
      if (known.has(key) || seen.has(key)) continue;
      seen.add(key);
      candidates.push(d);
    }

    const conversations = new Map<
      string,
      {
        type: 'direct' | 'group';
        onlyAdminsCanSend: boolean;
        membersVersion: number;
        disappearAfterSec: number;
        lastSeq: number;
      }
    >();
    const rejected = new Map<string, AppendRejection>();
    const created = new Map<string, StoredMessage>();
    const conversationIds = [...new Set([...drafts.map((d) => d.conversationId)])].sort();
    // Locks the conversation rows in id order and reads, in the same round trip, each
    // sender's active membership in them.
    const locked = await tx.query<{
      id: string;
      type: 'direct' | 'group';
      only_admins_can_send: boolean;
      members_version: number;
      disappear_after_sec: number;
      last_seq: number;
      user_id: string | null;
      role: MemberRole | null;
      joined_seq: number | null;
    }>(
      `SELECT c.id, c.type, c.only_admins_can_send, c.members_version, c.disappear_after_sec, c.last_seq, m.user_id, m.role, m.joined_seq
         FROM conversations c
         LEFT JOIN conversation_members m
           ON m.conversation_id = c.id AND m.user_id = ANY($2::uuid[]) AND m.left_seq IS NULL
        WHERE c.id = ANY($1::uuid[])
        ORDER BY c.id
        FOR UPDATE OF c`,
      [conversationIds, [...new Set(candidates.map((d) => d.senderId))]],
    );
    const roles = new Map<string, { role: MemberRole; joinedSeq: number }>();
    for (const c of locked) {
      conversations.set(c.id, {
        type: c.type,
        onlyAdminsCanSend: c.type === 'group' && c.only_admins_can_send,
        membersVersion: c.members_version,
        disappearAfterSec: c.disappear_after_sec,
        lastSeq: Number(c.last_seq),
      });
      if (c.user_id && c.role)
        roles.set(`${c.id}:${c.user_id}`, { role: c.role, joinedSeq: Number(c.joined_seq) });
    }

    if (candidates.length) {
      const late = await this.originalsUnderLock(
        candidates,
        new Map([...conversations].map(([id, c]) => [id, c.lastSeq])),
      );
      for (const m of late) known.set(dedupeKey(m.senderId, m.clientMsgId), m);
      if (late.length)
        candidates = candidates.filter((d) => !known.has(dedupeKey(d.senderId, d.clientMsgId)));
    }

    if (candidates.length) {
      const allowed: MessageDraft[] = [];
      for (const d of candidates) {
        const key = dedupeKey(d.senderId, d.clientMsgId);
        const conversation = conversations.get(d.conversationId);
        const member = roles.get(`${d.conversationId}:${d.senderId}`);
        if (!conversation) rejected.set(key, 'conversation_not_found');
        else if (!member) rejected.set(key, 'not_a_member');
        // System messages are the server's record of an event (a call), not a member's say.
        else if (conversation.onlyAdminsCanSend && member.role === 'member' && d.type !== 'system')
          rejected.set(key, 'admin_only');
        else allowed.push(d);
      }
      const effects = await this.judgeTargets(tx, allowed, policy, (d) => ({
        userId: d.senderId,
        ...roles.get(`${d.conversationId}:${d.senderId}`)!,
        conversationType: conversations.get(d.conversationId)!.type,
      }));
      const fresh = allowed.filter((d) => {
        const reason = effects.rejected.get(d);
        if (reason) rejected.set(dedupeKey(d.senderId, d.clientMsgId), reason);
        return !reason;
      });

      if (fresh.length) {
        const counts = new Map<string, number>();
        for (const d of fresh)
          counts.set(d.conversationId, (counts.get(d.conversationId) ?? 0) + 1);
        const ids = [...counts.keys()].sort();
        const now = new Date();
        const allocated = await tx.query<{ id: string; last_seq: number }>(
          `UPDATE conversations c SET last_seq = c.last_seq + v.n, last_message_at = $3
             FROM unnest($1::uuid[], $2::int[]) AS v(id, n)
            WHERE c.id = v.id
            RETURNING c.id, c.last_seq`,
          [ids, ids.map((id) => counts.get(id)), now],
        );
        const next = new Map<string, number>();
        for (const row of allocated) next.set(row.id, row.last_seq - counts.get(row.id)! + 1);
        const seqs = fresh.map((d) => {
          const seq = next.get(d.conversationId)!;
          next.set(d.conversationId, seq + 1);
          return seq;
        });
        const expiries = fresh.map((d) => {
          const timer = conversations.get(d.conversationId)!.disappearAfterSec;
          return timer > 0 ? new Date(now.getTime() + timer * 1000) : null;
        });
        const stored = fresh.map(({ envelopes, ...d }, i): StoredMessage => ({
          ...d,
          // An end-to-end message has no body of its own: each device reads its envelope.
          body: envelopes ? '' : d.body,
          e2e: !!envelopes,
          targetId: d.targetId ?? null,
          forwardScore: d.forwardScore ?? 0,
          viewOnce: d.viewOnce ?? false,
          seq: seqs[i],
          createdAt: now,
          editedAt: null,
          deletedAt: null,
          expiresAt: expiries[i],
        }));
        await this.insertMessages(tx, stored);
        await this.insertEnvelopes(tx, fresh);
        const seqOf = new Map(fresh.map((d, i) => [d, seqs[i]]));
        await this.applyTargetEffects(tx, effects, seqOf, now);
        for (const m of stored) created.set(dedupeKey(m.senderId, m.clientMsgId), m);
      }
    }

    const handedOut = new Set<string>();
    return drafts.map((d): AppendResult => {
      const key = dedupeKey(d.senderId, d.clientMsgId);
      const membersVersion = conversations.get(d.conversationId)?.membersVersion ?? 0;
      const original = known.get(key);
      if (original) {
        return {
          kind: 'stored',
          message: original,
          duplicate: true,
          membersVersion:
            conversations.get(original.conversationId)?.membersVersion ?? membersVersion,
        };
      }
      const reason = rejected.get(key);
      if (reason) return { kind: 'rejected', reason };
      const message = created.get(key)!;
      const duplicate = handedOut.has(key);
      handedOut.add(key);
      return { kind: 'stored', message, duplicate, membersVersion };
    });
  }

  /**
   * Deletes these messages' envelopes, which live in PostgreSQL whichever store holds the
   * messages (the Cassandra store calls this for the ones it holds).
   */
  protected async deleteEnvelopesOfMessages(
    runner: SqlRunner,
    messageIds: readonly string[],
  ): Promise<void> {
    if (!messageIds.length) return;
    await runner.query(`DELETE FROM message_envelopes WHERE message_id = ANY($1::uuid[])`, [
      [...messageIds],
    ]);
  }

  /** One statement for every envelope of the batch, whatever the number of devices. */
  private async insertEnvelopes(tx: SqlRunner, drafts: readonly MessageDraft[]): Promise<void> {
    const rows = drafts.flatMap((d) =>
      (d.envelopes ?? []).map((e) => ({ messageId: d.id, deviceId: e.deviceId, body: e.body })),
    );
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO message_envelopes (message_id, device_id, body)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`,
      [rows.map((r) => r.messageId), rows.map((r) => r.deviceId), rows.map((r) => r.body)],
    );
  }

  /** The already stored messages with these drafts' (senderId, clientMsgId). */
  protected async findOriginals(
    tx: SqlRunner,
    drafts: readonly MessageDraft[],
  ): Promise<StoredMessage[]> {
    const rows = await tx.query<MessageRow>(
      `SELECT ${cols} FROM messages m
         JOIN unnest($1::uuid[], $2::text[]) AS k(sender_id, client_msg_id)
           ON m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id`,
      [drafts.map((d) => d.senderId), drafts.map((d) => d.clientMsgId)],
    );
    return rows.map(toMessage);
  }

  /**
   * Originals that only a look taken with the conversations locked can find (a store
   * without PostgreSQL's unique index); `lastSeqs` is each locked conversation's last seq.
   */
  protected originalsUnderLock(
    _drafts: readonly MessageDraft[],
    _lastSeqs: ReadonlyMap<string, number>,
  ): Promise<StoredMessage[]> {
    return Promise.resolve([]);
  }

  protected async insertMessages(tx: SqlRunner, messages: readonly StoredMessage[]): Promise<void> {
    await tx.query(
      `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type,
                                 body, media_id, reply_to_id, withheld_from, created_at, view_once, expires_at,
                                 target_id, forward_score, e2e)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::uuid[], $6::text[],
                                $7::text[], $8::text[], $9::uuid[], $10::uuid[], $11::uuid[], $12::timestamptz[],
                                $13::boolean[], $14::timestamptz[], $15::uuid[], $16::int[], $17::boolean[])`,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.conversationId),
        messages.map((m) => m.seq),
        messages.map((m) => m.senderId),
        messages.map((m) => m.senderDeviceId),
        messages.map((m) => m.clientMsgId),
        messages.map((m) => m.type),
        messages.map((m) => m.body),
        messages.map((m) => m.mediaId),
        messages.map((m) => m.replyToId),
        messages.map((m) => m.withheldFrom),
        messages.map((m) => m.createdAt),
        messages.map((m) => m.viewOnce),
        messages.map((m) => m.expiresAt),
        messages.map((m) => m.targetId),
        messages.map((m) => m.forwardScore),
        messages.map((m) => !!m.e2e),
      ],
    );
  }

  /** The targets of a batch's events, read with their conversations locked. */
  protected async loadTargets(tx: SqlRunner, ids: readonly string[]): Promise<StoredMessage[]> {
    const rows = await tx.query<MessageRow>(
      `SELECT ${cols} FROM messages m WHERE m.id = ANY($1::uuid[])`,
      [[...ids]],
    );
    return rows.map(toMessage);
  }

  /** The current reactions on these messages, oldest first. */
  protected async loadReactions(
    tx: SqlRunner,
    ids: readonly string[],
  ): Promise<Array<{ messageId: string; userId: string; emoji: string }>> {
    const rows = await tx.query<{ message_id: string; user_id: string; emoji: string }>(
      `SELECT message_id, user_id, emoji FROM message_reactions
        WHERE message_id = ANY($1::uuid[]) ORDER BY reacted_seq`,
      [[...ids]],
    );
    return rows.map((r) => ({ messageId: r.message_id, userId: r.user_id, emoji: r.emoji }));
  }

  /**
   * Judges the batch's edits, deletes and reactions against their targets, read in one
   * statement (the conversation lock already held keeps them from changing), in draft order: an event sees the earlier events of the
   * batch applied. Returns what to refuse and the targets' final state to write.
   */
  private async judgeTargets(
    tx: SqlRunner,
    drafts: readonly MessageDraft[],
    policy: TargetPolicy,
    actorOf: (d: MessageDraft) => TargetActor,
  ): Promise<TargetEffects> {
    const effects: TargetEffects = {
      rejected: new Map(),
      edits: new Map(),
      deletes: new Set(),
      reactions: new Map(),
      reactionDrafts: new Map(),
    };
    const events = drafts.filter((d) => isTargetMessageType(d.type));
    if (!events.length) return effects;
    const targetIds = [
      ...new Set(events.map((d) => d.targetId).filter((id): id is string => !!id)),
    ];
    const targets = new Map<string, StoredMessage>();
    if (targetIds.length) {
      for (const m of await this.loadTargets(tx, targetIds)) targets.set(m.id, m);
    }
    const reactedIds = [
      ...new Set(
        events
          .filter((d) => d.type === 'reaction' && targets.has(d.targetId!))
          .map((d) => d.targetId!),
      ),
    ];
    if (reactedIds.length) {
      for (const row of await this.loadReactions(tx, reactedIds)) {
        let byUser = effects.reactions.get(row.messageId);
        if (!byUser) effects.reactions.set(row.messageId, (byUser = new Map<string, string>()));
        byUser.set(row.userId, row.emoji);
      }
    }
    const now = new Date();
    for (const d of events) {
      const target = d.targetId ? (targets.get(d.targetId) ?? null) : null;
      const type = d.type as 'edit' | 'delete' | 'reaction';
      let reason = judgeTargetAction(
        { type, conversationId: d.conversationId, body: d.body },
        actorOf(d),
        target,
        now,
        policy,
      );
      if (!reason && type === 'reaction') {
        const next = applyReaction(
          effects.reactions.get(target!.id) ?? new Map<string, string>(),
          d.senderId,
          d.body,
          policy.maxReactionEmojis,
        );
        if (next) {
          effects.reactions.set(target!.id, next);
          effects.reactionDrafts.set(`${target!.id}:${d.senderId}`, d);
        } else reason = 'too_many_reactions';
      }
      if (reason) {
        effects.rejected.set(d, reason);
        continue;
      }
      if (type === 'edit') {
        targets.set(target!.id, { ...target!, body: d.body, editedAt: now });
        effects.edits.set(target!.id, d.body);
      } else if (type === 'delete') {
        targets.set(target!.id, { ...target!, body: null, mediaId: null, deletedAt: now });
        effects.deletes.add(target!.id);
        effects.edits.delete(target!.id);
        effects.reactions.delete(target!.id);
      }
    }
    return effects;
  }

  /**
   * Writes the targets' final state: one statement per kind of change in the batch,
   * whatever the number of events or the size of the group.
   */
  protected async applyTargetEffects(
    tx: SqlRunner,
    effects: TargetEffects,
    seqOf: ReadonlyMap<MessageDraft, number>,
    now: Date,
  ): Promise<void> {
    if (effects.edits.size) {
      const ids = [...effects.edits.keys()];
      await tx.query(
        `UPDATE messages m SET body = v.body, edited_at = $3
           FROM unnest($1::uuid[], $2::text[]) AS v(id, body) WHERE m.id = v.id`,
        [ids, ids.map((id) => effects.edits.get(id)), now],
      );
    }
    // Only reactions written by this batch change rows: untouched members keep theirs.
    const touched = [...effects.reactionDrafts.entries()].filter(
      ([, d]) => !effects.deletes.has(d.targetId!),
    );
    if (touched.length) {
      const rows = touched.map(([, d]) => ({
        messageId: d.targetId!,
        userId: d.senderId,
        emoji: effects.reactions.get(d.targetId!)?.get(d.senderId) ?? '',
        seq: seqOf.get(d) ?? 0,
        withheldFrom: d.withheldFrom,
      }));
      // A reaction whose event was withheld (the peer blocked its sender) stays hidden
      // from that peer's history too, as its event is from their sync.
      await tx.query(
        `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::uuid[])
                      AS v(message_id, user_id, emoji, reacted_seq, withheld_from)),
              removed AS (DELETE FROM message_reactions r USING v
                           WHERE v.emoji = '' AND r.message_id = v.message_id AND r.user_id = v.user_id)
         INSERT INTO message_reactions (message_id, user_id, emoji, reacted_seq, withheld_from)
         SELECT message_id, user_id, emoji, reacted_seq, withheld_from FROM v WHERE emoji <> ''
         ON CONFLICT (message_id, user_id)
         DO UPDATE SET emoji = excluded.emoji, reacted_seq = excluded.reacted_seq,
                       withheld_from = excluded.withheld_from`,
        [
          rows.map((r) => r.messageId),
          rows.map((r) => r.userId),
          rows.map((r) => r.emoji),
          rows.map((r) => r.seq),
          rows.map((r) => r.withheldFrom),
        ],
      );
    }
    if (effects.deletes.size) {
      const ids = [...effects.deletes];
      // The target becomes a tombstone, and the edits and reactions pointing at it lose
      // their content too, so nothing of what was deleted can still be read.
      await tx.query(
        `WITH gone AS (DELETE FROM message_reactions WHERE message_id = ANY($1::uuid[])),
              sealed AS (DELETE FROM message_envelopes WHERE message_id = ANY($1::uuid[]))
         UPDATE messages SET body = NULL, media_id = NULL, edited_at = NULL, deleted_at = $2
          WHERE id = ANY($1::uuid[])
             OR (target_id = ANY($1::uuid[]) AND type IN ('edit', 'reaction'))`,
        [ids, now],
      );
    }
  }

  async findById(id: string): Promise<StoredMessage | null> {
    const [row] = await this.db.query<MessageRow>(
      `SELECT ${cols} FROM messages m WHERE m.id = $1`,
      [id],
    );
    return row ? toMessage(row) : null;
  }

  async visibleTo(userId: string, messageIds: readonly string[]): Promise<string[]> {
    if (!messageIds.length) return [];
    const rows = await this.db.query<{ id: string }>(
      `SELECT m.id FROM messages m
         JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $1
        WHERE m.id = ANY($2::uuid[])
          AND m.seq > cm.joined_seq
          AND (cm.left_seq IS NULL OR m.seq <= cm.left_seq)
          AND m.withheld_from IS DISTINCT FROM $1
          AND m.deleted_at IS NULL
          AND (m.expires_at IS NULL OR m.expires_at > now())`,
      [userId, [...messageIds]],
    );
    return rows.map((r) => r.id);
  }

  async findBySenderAndClientId(
    senderId: string,
    clientMsgId: string,
  ): Promise<StoredMessage | null> {
    const [row] = await this.db.query<MessageRow>(
      `SELECT ${cols} FROM messages m WHERE m.sender_id = $1 AND m.client_msg_id = $2`,
      [senderId, clientMsgId],
    );
    return row ? toMessage(row) : null;
  }

  async history(q: HistoryQuery): Promise<{ messages: MessageWithReactions[]; hasMore: boolean }> {
    const low = Math.max(q.minSeqExclusive, q.afterSeq ?? q.minSeqExclusive);
    const high = Math.min(q.maxSeq, q.beforeSeq !== undefined ? q.beforeSeq - 1 : q.maxSeq);
    if (high <= low) return { messages: [], hasMore: false };
    // Ascending from afterSeq; otherwise the newest page below the upper bound.
    const ascending = q.afterSeq !== undefined && q.beforeSeq === undefined;
    const rows = await this.db.query<MessageRow>(
      `SELECT ${cols} FROM messages m
        WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $3
          AND (m.withheld_from IS NULL OR m.withheld_from <> $4) AND ${readableBy('m', '$4')}
        ORDER BY m.seq ${ascending ? 'ASC' : 'DESC'} LIMIT $5`,
      [q.conversationId, low, high, q.viewerId, q.limit + 1],
    );
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map(toMessage);
    if (!ascending) page.reverse();
    const reactions = await this.reactionsOf(
      page.map((m) => m.id),
      q.viewerId,
    );
    return {
      messages: page.map((m) => ({ ...m, reactions: reactions.get(m.id) ?? [] })),
      hasMore,
    };
  }

  /** Each message's reactions, grouped by emoji in the order each emoji was first used. */
  private async reactionsOf(
    messageIds: string[],
    viewerId: string,
  ): Promise<Map<string, ReactionSummary[]>> {
    if (!messageIds.length) return new Map();
    const rows = await this.db.query<{ message_id: string; user_id: string; emoji: string }>(
      `SELECT message_id, user_id, emoji FROM message_reactions
        WHERE message_id = ANY($1::uuid[]) AND (withheld_from IS NULL OR withheld_from <> $2)
        ORDER BY reacted_seq, user_id`,
      [messageIds, viewerId],
    );
    return summarizeReactions(
      rows.map((r) => ({ messageId: r.message_id, userId: r.user_id, emoji: r.emoji })),
    );
  }

  async pending(ranges: readonly PendingRange[], q: PendingQuery): Promise<StoredMessage[]> {
    if (!ranges.length || q.limit <= 0) return [];
    const [ids, after, until] = rangeArrays(ranges);
    const rows = await this.db.query<MessageRow>(
      `SELECT ${cols}
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(conversation_id, after_seq, until_seq, ord)
         CROSS JOIN LATERAL (
           SELECT * FROM messages x
            WHERE x.conversation_id = r.conversation_id AND x.seq > r.after_seq AND x.seq <= r.until_seq
              AND x.sender_device_id <> $4 AND (x.withheld_from IS NULL OR x.withheld_from <> $5)
              AND ${readableBy('x', '$5')}
            ORDER BY x.seq LIMIT $6) m
        ORDER BY r.ord, m.seq
        LIMIT $6`,
      [ids, after, until, q.deviceId, q.viewerId, q.limit],
    );
    return rows.map(toMessage);
  }

  async latestVisible(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, StoredMessage>> {
    const out = new Map<string, StoredMessage>();
    if (!ranges.length) return out;
    const [ids, after, until] = rangeArrays(ranges);
    const rows = await this.db.query<MessageRow>(
      `SELECT ${cols}
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r(conversation_id, after_seq, until_seq)
         CROSS JOIN LATERAL (
           SELECT * FROM messages x
            WHERE x.conversation_id = r.conversation_id AND x.seq > r.after_seq AND x.seq <= r.until_seq
              AND (x.withheld_from IS NULL OR x.withheld_from <> $4) AND ${readableBy('x', '$4')}
            ORDER BY x.seq DESC LIMIT 1) m`,
      [ids, after, until, viewerId],
    );
    for (const row of rows) out.set(row.conversation_id, toMessage(row));
    return out;
  }

  async countFromOthers(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const open = ranges.filter((r) => r.untilSeq > r.afterSeq);
    if (!open.length) return out;
    const [ids, after, until] = rangeArrays(open);
    const rows = await this.db.query<{ conversation_id: string; n: number }>(
      `SELECT r.conversation_id, count(m.id)::int AS n
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r(conversation_id, after_seq, until_seq)
         JOIN messages m ON m.conversation_id = r.conversation_id AND m.seq > r.after_seq AND m.seq <= r.until_seq
        WHERE m.sender_id <> $4 AND m.type NOT IN ('system', 'edit', 'delete', 'reaction') AND (m.withheld_from IS NULL OR m.withheld_from <> $4)
          AND ${readableBy('m', '$4')}
        GROUP BY r.conversation_id`,
      [ids, after, until, viewerId],
    );
    for (const row of rows) out.set(row.conversation_id, row.n);
    return out;
  }

  async sendersBetween(
    conversationId: string,
    afterSeq: number,
    untilSeq: number,
    viewerId?: string,
  ): Promise<string[]> {
    if (untilSeq <= afterSeq) return [];
    const rows = await this.db.query<{ sender_id: string }>(
      `SELECT DISTINCT sender_id FROM messages
        WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 AND type <> 'system'
          AND ($4::uuid IS NULL OR withheld_from IS NULL OR withheld_from <> $4::uuid)`,
      [conversationId, afterSeq, untilSeq, viewerId ?? null],
    );
    return rows.map((r) => r.sender_id);
  }

  override async sendersInRanges(ranges: readonly SendersRange[]): Promise<string[][]> {
    const asked = ranges.filter((r) => r.untilSeq > r.afterSeq);
    if (!asked.length) return ranges.map(() => []);
    const rows = await this.db.query<{ n: number; sender_id: string }>(
      `SELECT DISTINCT r.n, m.sender_id
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::uuid[])
                WITH ORDINALITY AS r(conversation_id, after_seq, until_seq, viewer_id, n)
         JOIN messages m ON m.conversation_id = r.conversation_id
                        AND m.seq > r.after_seq AND m.seq <= r.until_seq
        WHERE m.type <> 'system'
          AND (r.viewer_id IS NULL OR m.withheld_from IS NULL OR m.withheld_from <> r.viewer_id)`,
      [
        asked.map((r) => r.conversationId),
        asked.map((r) => r.afterSeq),
        asked.map((r) => r.untilSeq),
        asked.map((r) => r.viewerId ?? null),
      ],
    );
    const byRange = asked.map((): string[] => []);
    for (const row of rows) byRange[row.n - 1].push(row.sender_id);
    const answers = new Map(asked.map((r, i) => [r, byRange[i]]));
    return ranges.map((r) => answers.get(r) ?? []);
  }

  async deleteCreatedBefore(before: Date, batchSize: number): Promise<number> {
    const rows = await this.db.query(
      `WITH gone AS (
         DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created_at < $1 LIMIT $2)
         RETURNING id),
       sealed AS (DELETE FROM message_envelopes WHERE message_id IN (SELECT id FROM gone))
       SELECT id FROM gone`,
      [before, batchSize],
    );
    return rows.length;
  }

  async deleteExpired(now: Date, batchSize: number): Promise<PurgedMessage[]> {
    const rows = await this.db.query<{
      id: string;
      conversation_id: string;
      media_id: string | null;
    }>(
      `WITH gone AS (
         DELETE FROM messages WHERE id IN (
           SELECT id FROM messages WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2)
         RETURNING id, conversation_id, media_id),
       sealed AS (DELETE FROM message_envelopes WHERE message_id IN (SELECT id FROM gone))
       SELECT id, conversation_id, media_id FROM gone`,
      [now, batchSize],
    );
    return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id, mediaId: r.media_id }));
  }

  async envelopesFor(
    deviceId: string,
    messageIds: readonly string[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!messageIds.length) return out;
    const rows = await this.db.query<{ message_id: string; body: string }>(
      `SELECT message_id, body FROM message_envelopes WHERE device_id = $1 AND message_id = ANY($2::uuid[])`,
      [deviceId, [...messageIds]],
    );
    for (const row of rows) out.set(row.message_id, row.body);
    return out;
  }

  async deleteEnvelopesOf(deviceId: string): Promise<void> {
    await this.db.query(`DELETE FROM message_envelopes WHERE device_id = $1`, [deviceId]);
  }

  async hide(userId: string, conversationId: string, messageIds: readonly string[]): Promise<void> {
    if (!messageIds.length) return;
    // A hidden message leaves the starred list too.
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO message_hidden (user_id, message_id, conversation_id)
         SELECT $1, id, $2 FROM unnest($3::uuid[]) AS t(id)
         ON CONFLICT DO NOTHING`,
        [userId, conversationId, [...new Set(messageIds)]],
      );
      await tx.query(
        `DELETE FROM message_stars WHERE user_id = $1 AND message_id = ANY($2::uuid[])`,
        [userId, [...messageIds]],
      );
    });
  }

  async star(userId: string, messageId: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO message_stars (user_id, message_id, starred_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [userId, messageId, at],
    );
  }

  async unstar(userId: string, messageId: string): Promise<void> {
    await this.db.query(`DELETE FROM message_stars WHERE user_id = $1 AND message_id = $2`, [
      userId,
      messageId,
    ]);
  }

  async starred(
    userId: string,
    after: StarredCursor | null,
    limit: number,
  ): Promise<StarredMessage[]> {
    if (limit <= 0) return [];
    const rows = await this.db.query<MessageRow & { starred_at: Date }>(
      `SELECT ${cols}, s.starred_at FROM message_stars s
         JOIN messages m ON m.id = s.message_id
        WHERE s.user_id = $1 AND ($2::timestamptz IS NULL OR (s.starred_at, s.message_id) < ($2, $3::uuid))
          AND ${readableBy('m', '$1')}
        ORDER BY s.starred_at DESC, s.message_id DESC
        LIMIT $4`,
      [userId, after?.starredAt ?? null, after?.messageId ?? null, limit],
    );
    return rows.map((r) => ({ message: toMessage(r), starredAt: r.starred_at }));
  }
}
