import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { Db } from '../../../../common/database/db';
import { systemMessage } from '../../domain/message';
import type {
  Conversation,
  DisappearingChangedEvent,
  ConversationSummary,
  ConversationType,
  MemberReceipt,
  MemberRole,
  Membership,
  PendingRange,
  PushMember,
  ReceiptStatus,
  WatermarkAdvance,
} from '../../domain/conversation';
import {
  ConversationRepository,
  type AckInput,
  type Audience,
  type DisappearingChange,
  type ConversationListKey,
} from '../../ports/conversation.repository';

interface ConversationRow {
  id: string;
  type: ConversationType;
  name: string | null;
  description: string;
  created_by: string;
  only_admins_can_send: boolean;
  only_admins_can_edit_info: boolean;
  disappear_after_sec: number;
  member_count: number;
  last_seq: number;
  last_message_at: Date | null;
  created_at: Date;
}

interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Date;
  joined_seq: number;
  left_seq: number | null;
  left_name: string | null;
  left_member_count: number | null;
  delivered_seq: number;
  read_seq: number;
  muted_until: Date | null;
}

const conversationCols = `c.id, c.type, c.name, c.description, c.created_by, c.only_admins_can_send,
  c.only_admins_can_edit_info, c.disappear_after_sec, c.member_count, c.last_seq, c.last_message_at, c.created_at`;
const memberCols = `m.conversation_id, m.user_id, m.role, m.joined_at, m.joined_seq, m.left_seq,
  m.left_name, m.left_member_count, m.delivered_seq, m.read_seq, m.muted_until`;

export function toConversation(r: ConversationRow): Conversation {
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    description: r.description,
    createdBy: r.created_by,
    onlyAdminsCanSend: r.only_admins_can_send,
    onlyAdminsCanEditInfo: r.only_admins_can_edit_info,
    disappearAfterSec: r.disappear_after_sec,
    memberCount: r.member_count,
    lastSeq: r.last_seq,
    lastMessageAt: r.last_message_at,
    createdAt: r.created_at,
  };
}

export function toMembership(r: MemberRow): Membership {
  return {
    conversationId: r.conversation_id,
    userId: r.user_id,
    role: r.role,
    joinedAt: r.joined_at,
    joinedSeq: r.joined_seq,
    leftSeq: r.left_seq,
    leftName: r.left_name,
    leftMemberCount: r.left_member_count,
    deliveredSeq: r.delivered_seq,
    readSeq: r.read_seq,
    mutedUntil: r.muted_until,
  };
}

/** The unique key of a pair's direct conversation, the same in either order. */
const directKey = (userA: string, userB: string): string => [userA, userB].sort().join(':');

const STATUS_CODE: Record<ReceiptStatus, number> = { delivered: 1, read: 2 };

/** The summary query: the caller's row plus the other active members' lowest watermarks. */
const summarySql = (where: string, extraCols = '') => `
  SELECT ${conversationCols}, ${memberCols},${extraCols}
    (SELECT min(o.delivered_seq) FROM conversation_members o
      WHERE o.conversation_id = c.id AND o.user_id <> m.user_id AND o.left_seq IS NULL) AS peer_delivered_seq,
    (SELECT min(CASE WHEN COALESCE(s.read_receipts, true) THEN o.read_seq ELSE 0 END)
       FROM conversation_members o LEFT JOIN chat_user_settings s ON s.user_id = o.user_id
      WHERE o.conversation_id = c.id AND o.user_id <> m.user_id AND o.left_seq IS NULL) AS peer_read_seq,
    CASE WHEN c.type = 'direct' THEN (SELECT o.user_id FROM conversation_members o
      WHERE o.conversation_id = c.id AND o.user_id <> m.user_id LIMIT 1) END AS peer_id
  FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
  WHERE ${where}`;

type SummaryRow = ConversationRow &
  MemberRow & {
    peer_delivered_seq: number | null;
    peer_read_seq: number | null;
    peer_id: string | null;
  };

function toSummary(r: SummaryRow): ConversationSummary {
  return {
    conversation: toConversation(r),
    membership: toMembership(r),
    peerId: r.peer_id,
    peerDeliveredSeq: r.peer_delivered_seq ?? 0,
    peerReadSeq: r.peer_read_seq ?? 0,
  };
}

@Injectable()
export class ConversationPostgresRepository extends ConversationRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async findById(id: string): Promise<Conversation | null> {
    const [row] = await this.db.query<ConversationRow>(
      `SELECT ${conversationCols} FROM conversations c WHERE c.id = $1`,
      [id],
    );
    return row ? toConversation(row) : null;
  }

  async getOrCreateDirect(
    id: string,
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const found = await this.findDirect(userA, userB);
    if (found) return { conversation: found, created: false };
    const key = directKey(userA, userB);
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx.query<ConversationRow>(
        `INSERT INTO conversations AS c (id, type, direct_key, created_by, member_count)
         VALUES ($1, 'direct', $2, $3, 2) ON CONFLICT (direct_key) DO NOTHING
         RETURNING ${conversationCols}`,
        [id, key, userA],
      );
      if (!inserted) {
        const [row] = await tx.query<ConversationRow>(
          `SELECT ${conversationCols} FROM conversations c WHERE c.direct_key = $1`,
          [key],
        );
        return { conversation: toConversation(row), created: false };
      }
      await tx.query(
        `INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'member')`,
        [id, userA, userB],
      );
      return { conversation: toConversation(inserted), created: true };
    });
  }

  async findMembership(conversationId: string, userId: string): Promise<Membership | null> {
    const [row] = await this.db.query<MemberRow>(
      `SELECT ${memberCols} FROM conversation_members m WHERE m.conversation_id = $1 AND m.user_id = $2`,
      [conversationId, userId],
    );
    return row ? toMembership(row) : null;
  }

  async audience(conversationId: string): Promise<Audience | null> {
    const rows = await this.db.query<{
      type: 'direct' | 'group';
      members_version: number;
      user_id: string | null;
      joined_seq: number | null;
    }>(
      `SELECT c.type, c.members_version, m.user_id, m.joined_seq
         FROM conversations c
         LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.left_seq IS NULL
        WHERE c.id = $1`,
      [conversationId],
    );
    if (!rows.length) return null;
    const members: Audience['members'] = [];
    for (const r of rows)
      if (r.user_id) members.push({ userId: r.user_id, joinedSeq: r.joined_seq ?? 0 });
    return { type: rows[0].type, membersVersion: rows[0].members_version, members };
  }

  async findDirect(userA: string, userB: string): Promise<Conversation | null> {
    const [row] = await this.db.query<ConversationRow>(
      `SELECT ${conversationCols} FROM conversations c WHERE c.direct_key = $1`,
      [directKey(userA, userB)],
    );
    return row ? toConversation(row) : null;
  }

  async listForUser(userId: string): Promise<ConversationSummary[]> {
    const rows = await this.db.query<SummaryRow>(
      `${summarySql('m.user_id = $1')} ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id`,
      [userId],
    );
    return rows.map(toSummary);
  }

  async listPageForUser(
    userId: string,
    after: ConversationListKey | null,
    limit: number,
  ): Promise<Array<{ summary: ConversationSummary; key: ConversationListKey }>> {
    // Keyset paging on (activity DESC, id): the key is exact to the microsecond, so equal
    // times are neither skipped nor repeated.
    const rows = await this.db.query<SummaryRow & { activity_us: string }>(
      `SELECT * FROM (
         ${summarySql(
           'm.user_id = $1',
           ` COALESCE(c.last_message_at, c.created_at) AS activity,
             (extract(epoch FROM COALESCE(c.last_message_at, c.created_at)) * 1000000)::bigint::text AS activity_us,`,
         )}
       ) p
       WHERE $2::bigint IS NULL
          OR p.activity < 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'
          OR (p.activity = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' AND p.id > $3::uuid)
       ORDER BY p.activity DESC, p.id
       LIMIT $4`,
      [userId, after?.activityMicros ?? null, after?.id ?? null, limit],
    );
    return rows.map((r) => ({
      summary: toSummary(r),
      key: { activityMicros: r.activity_us, id: r.id },
    }));
  }

  async summaryFor(conversationId: string, userId: string): Promise<ConversationSummary | null> {
    const [row] = await this.db.query<SummaryRow>(
      summarySql('m.user_id = $1 AND m.conversation_id = $2'),
      [userId, conversationId],
    );
    return row ? toSummary(row) : null;
  }

  async advanceMany(
    inputs: readonly AckInput[],
    at: Date,
  ): Promise<Array<WatermarkAdvance | null>> {
    if (!inputs.length) return [];
    // One statement, so no transaction is held open between round trips. The members'
    // rows are locked in key order (the same order for every writer); a former member's
    // ack is refused past where they left; an ack is clamped to what they can see; read
    // implies delivered; nothing moves backwards (GREATEST over the locked values).
    const rows = await this.db.query<{
      n: number;
      prev_delivered: number | null;
      prev_read: number | null;
      delivered_seq: number | null;
      read_seq: number | null;
    }>(
      `WITH i AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::smallint[])
           WITH ORDINALITY AS i(conversation_id, user_id, device_id, seq, status, n)
       ),
       m AS (
         SELECT m.conversation_id, m.user_id, m.delivered_seq, m.read_seq, m.left_seq,
                COALESCE(m.left_seq, c.last_seq) AS last_seq
           FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
          WHERE (m.conversation_id, m.user_id) IN (SELECT conversation_id, user_id FROM i)
          ORDER BY m.conversation_id, m.user_id
            FOR UPDATE OF m
       ),
       v AS (
         SELECT i.n, i.conversation_id, i.user_id, i.device_id, i.status,
                GREATEST(0, LEAST(i.seq, m.last_seq)) AS target
           FROM i JOIN m ON m.conversation_id = i.conversation_id AND m.user_id = i.user_id
          WHERE m.left_seq IS NULL OR i.seq <= m.left_seq
       ),
       r AS (
         SELECT m.conversation_id, m.user_id, m.delivered_seq AS prev_delivered,
                m.read_seq AS prev_read,
                GREATEST(m.read_seq, max(v.target) FILTER (WHERE v.status = ${STATUS_CODE.read})) AS read_seq,
                GREATEST(m.delivered_seq, m.read_seq, max(v.target)) AS delivered_seq
           FROM m JOIN v ON v.conversation_id = m.conversation_id AND v.user_id = m.user_id
          GROUP BY m.conversation_id, m.user_id, m.delivered_seq, m.read_seq
       ),
       moved AS (
         UPDATE conversation_members x SET
           delivered_seq = r.delivered_seq,
           delivered_at = CASE WHEN r.delivered_seq > r.prev_delivered THEN $6::timestamptz ELSE x.delivered_at END,
           read_seq = r.read_seq,
           read_at = CASE WHEN r.read_seq > r.prev_read THEN $6::timestamptz ELSE x.read_at END
           FROM r
          WHERE x.conversation_id = r.conversation_id AND x.user_id = r.user_id
            AND (r.delivered_seq > r.prev_delivered OR r.read_seq > r.prev_read)
       ),
       marks AS (
         INSERT INTO receipt_marks (conversation_id, user_id, status, seq, at)
         SELECT conversation_id, user_id, ${STATUS_CODE.delivered}, delivered_seq, $6 FROM r
          WHERE delivered_seq > prev_delivered
         UNION ALL
         SELECT conversation_id, user_id, ${STATUS_CODE.read}, read_seq, $6 FROM r
          WHERE read_seq > prev_read
         ON CONFLICT DO NOTHING
       ),
       positions AS (
         -- A device's own position follows its acks, even when another device moved the member's first.
         INSERT INTO device_positions (device_id, conversation_id, delivered_seq)
         SELECT device_id, conversation_id, max(target) FROM v
          GROUP BY device_id, conversation_id ORDER BY device_id, conversation_id
         ON CONFLICT (device_id, conversation_id)
         DO UPDATE SET delivered_seq = GREATEST(device_positions.delivered_seq, EXCLUDED.delivered_seq)
       )
       SELECT i.n, r.prev_delivered, r.prev_read, r.delivered_seq, r.read_seq
         FROM i
         LEFT JOIN v ON v.n = i.n
         LEFT JOIN r ON r.conversation_id = v.conversation_id AND r.user_id = v.user_id
        ORDER BY i.n`,
      [
        inputs.map((a) => a.conversationId),
        inputs.map((a) => a.userId),
        inputs.map((a) => a.deviceId),
        inputs.map((a) => a.seq),
        inputs.map((a) => STATUS_CODE[a.status]),
        at,
      ],
    );
    return rows.map((row) =>
      row.delivered_seq === null
        ? null
        : {
            previousDelivered: row.prev_delivered!,
            previousRead: row.prev_read!,
            delivered: row.delivered_seq,
            read: row.read_seq!,
            at,
          },
    );
  }

  async pendingRanges(userId: string, deviceId: string): Promise<PendingRange[]> {
    const rows = await this.db.query<{
      conversation_id: string;
      after_seq: number;
      until_seq: number;
    }>(
      `SELECT m.conversation_id,
              GREATEST(COALESCE(dp.delivered_seq, 0), m.joined_seq) AS after_seq,
              COALESCE(m.left_seq, c.last_seq) AS until_seq
         FROM conversation_members m
         JOIN conversations c ON c.id = m.conversation_id
         LEFT JOIN device_positions dp ON dp.device_id = $2 AND dp.conversation_id = m.conversation_id
        WHERE m.user_id = $1
          AND COALESCE(m.left_seq, c.last_seq) > GREATEST(COALESCE(dp.delivered_seq, 0), m.joined_seq)
        ORDER BY c.last_message_at, m.conversation_id`,
      [userId, deviceId],
    );
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      afterSeq: r.after_seq,
      untilSeq: r.until_seq,
    }));
  }

  async pushMembers(
    conversationId: string,
  ): Promise<{ lastSeq: number; members: PushMember[] } | null> {
    const rows = await this.db.query<{
      last_seq: number;
      user_id: string | null;
      joined_seq: number | null;
      read_seq: number | null;
      muted_until: Date | null;
    }>(
      `SELECT c.last_seq, m.user_id, m.joined_seq, m.read_seq, m.muted_until
         FROM conversations c
         LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.left_seq IS NULL
        WHERE c.id = $1`,
      [conversationId],
    );
    if (!rows.length) return null;
    const members: PushMember[] = [];
    for (const r of rows) {
      if (r.user_id === null) continue;
      members.push({
        userId: r.user_id,
        joinedSeq: r.joined_seq ?? 0,
        readSeq: r.read_seq ?? 0,
        mutedUntil: r.muted_until,
      });
    }
    return { lastSeq: rows[0].last_seq, members };
  }

  async devicePositions(
    conversationId: string,
    deviceIds: readonly string[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!deviceIds.length) return out;
    const rows = await this.db.query<{ device_id: string; delivered_seq: number }>(
      `SELECT device_id, delivered_seq FROM device_positions
        WHERE conversation_id = $1 AND device_id = ANY($2::uuid[])`,
      [conversationId, deviceIds],
    );
    for (const r of rows) out.set(r.device_id, r.delivered_seq);
    return out;
  }

  async setMutedUntil(
    conversationId: string,
    userId: string,
    until: Date | null,
  ): Promise<boolean> {
    const rows = await this.db.query<{ user_id: string }>(
      `UPDATE conversation_members SET muted_until = $3
        WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL
        RETURNING user_id`,
      [conversationId, userId, until],
    );
    return rows.length > 0;
  }

  async initDevicePositions(userId: string, deviceId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO device_positions (device_id, conversation_id, delivered_seq)
       SELECT $2, m.conversation_id, c.last_seq
         FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.user_id = $1 AND m.left_seq IS NULL
       ON CONFLICT DO NOTHING`,
      [userId, deviceId],
    );
  }

  async deleteDevicePositions(deviceId: string): Promise<void> {
    await this.db.query(`DELETE FROM device_positions WHERE device_id = $1`, [deviceId]);
  }

  async memberReceipts(conversationId: string): Promise<MemberReceipt[]> {
    const rows = await this.db.query<{
      user_id: string;
      joined_seq: number;
      left_seq: number | null;
      delivered_seq: number;
      read_seq: number;
      read_receipts: boolean | null;
      delivered_at: Date | null;
      read_at: Date | null;
    }>(
      `SELECT m.user_id, m.joined_seq, m.left_seq, m.delivered_seq, m.read_seq, s.read_receipts,
              m.delivered_at, m.read_at
         FROM conversation_members m LEFT JOIN chat_user_settings s ON s.user_id = m.user_id
        WHERE m.conversation_id = $1 ORDER BY m.joined_at, m.user_id`,
      [conversationId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      joinedSeq: r.joined_seq,
      leftSeq: r.left_seq,
      deliveredSeq: r.delivered_seq,
      readSeq: r.read_seq,
      readReceipts: r.read_receipts ?? true,
      deliveredAt: r.delivered_at,
      readAt: r.read_at,
    }));
  }

  async watermarkTimes(
    conversationId: string,
    status: ReceiptStatus,
    seq: number,
  ): Promise<Map<string, Date>> {
    const rows = await this.db.query<{ user_id: string; at: Date }>(
      `SELECT DISTINCT ON (user_id) user_id, at FROM receipt_marks
        WHERE conversation_id = $1 AND status = $2 AND seq >= $3
        ORDER BY user_id, seq`,
      [conversationId, STATUS_CODE[status], seq],
    );
    return new Map(rows.map((r) => [r.user_id, r.at]));
  }

  async setReadReceipts(userId: string, enabled: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO chat_user_settings (user_id, read_receipts) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET read_receipts = EXCLUDED.read_receipts`,
      [userId, enabled],
    );
  }

  async readReceiptsOf(userIds: readonly string[]): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>(userIds.map((id) => [id, true]));
    if (!userIds.length) return out;
    const rows = await this.db.query<{ user_id: string; read_receipts: boolean }>(
      `SELECT user_id, read_receipts FROM chat_user_settings WHERE user_id = ANY($1::uuid[])`,
      [userIds],
    );
    for (const r of rows) out.set(r.user_id, r.read_receipts);
    return out;
  }

  async deleteWatermarkTimesBefore(before: Date): Promise<number> {
    const rows = await this.db.query(`DELETE FROM receipt_marks WHERE at < $1 RETURNING seq`, [
      before,
    ]);
    return rows.length;
  }

  async partnersOf(userId: string): Promise<string[]> {
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT DISTINCT o.user_id
         FROM conversation_members m
         JOIN conversation_members o ON o.conversation_id = m.conversation_id
        WHERE m.user_id = $1 AND m.left_seq IS NULL AND o.left_seq IS NULL AND o.user_id <> $1`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  async sharedWith(userId: string, otherIds: readonly string[]): Promise<Set<string>> {
    if (!otherIds.length) return new Set();
    // Starts from the caller's memberships (user index), then probes each by primary key.
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT DISTINCT o.user_id
         FROM conversation_members m
         JOIN conversation_members o ON o.conversation_id = m.conversation_id
        WHERE m.user_id = $1 AND m.left_seq IS NULL
          AND o.user_id = ANY($2::uuid[]) AND o.left_seq IS NULL AND o.user_id <> $1`,
      [userId, otherIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  async setDisappearing(
    conversationId: string,
    actor: { userId: string; deviceId: string },
    disappearAfterSec: number,
  ): Promise<DisappearingChange> {
    return this.db.transaction(async (tx): Promise<DisappearingChange> => {
      const [row] = await tx.query<ConversationRow & { role: MemberRole | null }>(
        `SELECT ${conversationCols}, m.role FROM conversations c
           LEFT JOIN conversation_members m
             ON m.conversation_id = c.id AND m.user_id = $2 AND m.left_seq IS NULL
          WHERE c.id = $1
          FOR UPDATE OF c`,
        [conversationId, actor.userId],
      );
      if (!row) return { kind: 'rejected', reason: 'conversation_not_found' };
      if (!row.role) return { kind: 'rejected', reason: 'not_a_member' };
      if (row.type === 'group' && row.only_admins_can_edit_info && row.role === 'member') {
        return { kind: 'rejected', reason: 'admin_only' };
      }
      if (row.disappear_after_sec === disappearAfterSec) {
        return { kind: 'changed', conversation: toConversation(row), message: null };
      }
      const now = new Date();
      const [updated] = await tx.query<ConversationRow>(
        `UPDATE conversations c SET disappear_after_sec = $2, last_seq = c.last_seq + 1, last_message_at = $3
          WHERE c.id = $1 RETURNING ${conversationCols}`,
        [conversationId, disappearAfterSec, now],
      );
      const event: DisappearingChangedEvent = {
        event: 'disappearing_changed',
        actorId: actor.userId,
        disappearAfterSec,
      };
      const message = systemMessage({
        id: uuidv7(),
        conversationId,
        seq: updated.last_seq,
        actor,
        event,
        createdAt: now,
      });
      await tx.query(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'system', $7, $8)`,
        [
          message.id,
          conversationId,
          message.seq,
          actor.userId,
          actor.deviceId,
          message.clientMsgId,
          message.body,
          now,
        ],
      );
      return { kind: 'changed', conversation: toConversation(updated), message };
    });
  }
}
