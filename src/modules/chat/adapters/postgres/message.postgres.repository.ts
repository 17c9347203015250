import { Injectable } from '@nestjs/common';
import { Db, type SqlRunner } from '../../../../common/database/db';
import type { PendingRange } from '../../domain/conversation';
import type {
  AppendRejection,
  AppendResult,
  MessageDraft,
  MessageType,
  StoredMessage,
} from '../../domain/message';
import {
  MessageRepository,
  type HistoryQuery,
  type PendingQuery,
} from '../../ports/message.repository';

interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender_device_id: string;
  client_msg_id: string;
  type: MessageType;
  body: string;
  media_id: string | null;
  view_once: boolean;
  reply_to_id: string | null;
  withheld_from: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

const cols = `m.id, m.conversation_id, m.seq, m.sender_id, m.sender_device_id, m.client_msg_id, m.type,
  m.body, m.media_id, m.view_once, m.reply_to_id, m.withheld_from, m.created_at, m.edited_at, m.deleted_at`;

function toMessage(r: MessageRow): StoredMessage {
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
    viewOnce: r.view_once,
    replyToId: r.reply_to_id,
    withheldFrom: r.withheld_from,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
  };
}

const dedupeKey = (senderId: string, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;
const RETRYABLE = new Set(['23505', '40P01', '40001']);

function rangeArrays(ranges: readonly PendingRange[]): [string[], number[], number[]] {
  return [
    ranges.map((r) => r.conversationId),
    ranges.map((r) => r.afterSeq),
    ranges.map((r) => r.untilSeq),
  ];
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
  async append(drafts: readonly MessageDraft[]): Promise<AppendResult[]> {
    if (!drafts.length) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.appendIn(tx, drafts));
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 4 || !code || !RETRYABLE.has(code)) throw error;
      }
    }
  }

  private async appendIn(tx: SqlRunner, drafts: readonly MessageDraft[]): Promise<AppendResult[]> {
    const existing = await tx.query<MessageRow>(
      `SELECT ${cols} FROM messages m
         JOIN unnest($1::uuid[], $2::text[]) AS k(sender_id, client_msg_id)
           ON m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id`,
      [drafts.map((d) => d.senderId), drafts.map((d) => d.clientMsgId)],
    );
    const known = new Map<string, StoredMessage>();
    for (const row of existing)
      known.set(dedupeKey(row.sender_id, row.client_msg_id), toMessage(row));

    const candidates: MessageDraft[] = [];
    const seen = new Set<string>();
    for (const d of drafts) {
      const key = dedupeKey(d.senderId, d.clientMsgId);
      if (known.has(key) || seen.has(key)) continue;
      seen.add(key);
      candidates.push(d);
    }

    const conversations = new Map<string, { onlyAdminsCanSend: boolean; membersVersion: number }>();
    const rejected = new Map<string, AppendRejection>();
    const created = new Map<string, StoredMessage>();
    const conversationIds = [...new Set([...drafts.map((d) => d.conversationId)])].sort();
    // Locks the conversation rows in id order and reads, in the same round trip, each
    // sender's active membership in them.
    const locked = await tx.query<{
      id: string;
      type: string;
      only_admins_can_send: boolean;
      members_version: number;
      user_id: string | null;
      role: string | null;
    }>(
      `SELECT c.id, c.type, c.only_admins_can_send, c.members_version, m.user_id, m.role
         FROM conversations c
         LEFT JOIN conversation_members m
           ON m.conversation_id = c.id AND m.user_id = ANY($2::uuid[]) AND m.left_seq IS NULL
        WHERE c.id = ANY($1::uuid[])
        ORDER BY c.id
        FOR UPDATE OF c`,
      [conversationIds, [...new Set(candidates.map((d) => d.senderId))]],
    );
    const roles = new Map<string, string>();
    for (const c of locked) {
      conversations.set(c.id, {
        onlyAdminsCanSend: c.type === 'group' && c.only_admins_can_send,
        membersVersion: c.members_version,
      });
      if (c.user_id && c.role) roles.set(`${c.id}:${c.user_id}`, c.role);
    }

    if (candidates.length) {
      const fresh: MessageDraft[] = [];
      for (const d of candidates) {
        const key = dedupeKey(d.senderId, d.clientMsgId);
        const conversation = conversations.get(d.conversationId);
        const role = roles.get(`${d.conversationId}:${d.senderId}`);
        if (!conversation) rejected.set(key, 'conversation_not_found');
        else if (!role) rejected.set(key, 'not_a_member');
        else if (conversation.onlyAdminsCanSend && role === 'member')
          rejected.set(key, 'admin_only');
        else fresh.push(d);
      }

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
        await tx.query(
          `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type,
                                 body, media_id, reply_to_id, withheld_from, created_at, view_once)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::uuid[], $6::text[],
                                $7::text[], $8::text[], $9::uuid[], $10::uuid[], $11::uuid[], $12::timestamptz[],
                                $13::boolean[])`,
          [
            fresh.map((d) => d.id),
            fresh.map((d) => d.conversationId),
            seqs,
            fresh.map((d) => d.senderId),
            fresh.map((d) => d.senderDeviceId),
            fresh.map((d) => d.clientMsgId),
            fresh.map((d) => d.type),
            fresh.map((d) => d.body),
            fresh.map((d) => d.mediaId),
            fresh.map((d) => d.replyToId),
            fresh.map((d) => d.withheldFrom),
            fresh.map(() => now),
            fresh.map((d) => d.viewOnce ?? false),
          ],
        );
        fresh.forEach((d, i) => {
          created.set(dedupeKey(d.senderId, d.clientMsgId), {
            ...d,
            viewOnce: d.viewOnce ?? false,
            seq: seqs[i],
            createdAt: now,
            editedAt: null,
            deletedAt: null,
          });
        });
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
          AND m.withheld_from IS DISTINCT FROM $1`,
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

  async history(q: HistoryQuery): Promise<{ messages: StoredMessage[]; hasMore: boolean }> {
    const low = Math.max(q.minSeqExclusive, q.afterSeq ?? q.minSeqExclusive);
    const high = Math.min(q.maxSeq, q.beforeSeq !== undefined ? q.beforeSeq - 1 : q.maxSeq);
    if (high <= low) return { messages: [], hasMore: false };
    // Ascending from afterSeq; otherwise the newest page below the upper bound.
    const ascending = q.afterSeq !== undefined && q.beforeSeq === undefined;
    const rows = await this.db.query<MessageRow>(
      `SELECT ${cols} FROM messages m
        WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $3
          AND (m.withheld_from IS NULL OR m.withheld_from <> $4)
        ORDER BY m.seq ${ascending ? 'ASC' : 'DESC'} LIMIT $5`,
      [q.conversationId, low, high, q.viewerId, q.limit + 1],
    );
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map(toMessage);
    if (!ascending) page.reverse();
    return { messages: page, hasMore };
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
              AND (x.withheld_from IS NULL OR x.withheld_from <> $4)
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
        WHERE m.sender_id <> $4 AND m.type <> 'system' AND (m.withheld_from IS NULL OR m.withheld_from <> $4)
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

  async deleteCreatedBefore(before: Date, batchSize: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created_at < $1 LIMIT $2) RETURNING id`,
      [before, batchSize],
    );
    return rows.length;
  }
}
