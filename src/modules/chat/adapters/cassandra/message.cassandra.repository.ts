import { Injectable } from '@nestjs/common';
import type { types } from 'cassandra-driver';
import { CassandraSession } from '../../../../common/cassandra/cassandra.session';
import { AppConfig } from '../../../../common/config/app-config';
import { Db, type SqlRunner } from '../../../../common/database/db';
import type { PendingRange } from '../../domain/conversation';
import type {
  MessageDraft,
  MessageType,
  MessageWithReactions,
  PurgedMessage,
  ReactionSummary,
  StarredMessage,
  StoredMessage,
} from '../../domain/message';
import type { HistoryQuery, PendingQuery, StarredCursor } from '../../ports/message.repository';
import {
  MessagePostgresRepository,
  summarizeReactions,
  type TargetEffects,
} from '../postgres/message.postgres.repository';

const DAY_MS = 86_400_000;
/** How long rows outlive their expiry or retention, so the purge jobs release media first. */
const TTL_GRACE_SEC = 7 * 86_400;

const COLS = `id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type, body,
  media_id, target_id, forward_score, view_once, reply_to_id, withheld_from, created_at,
  edited_at, deleted_at, expires_at, e2e`;

const Q = {
  insert: `INSERT INTO messages (bucket, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
  insertId: `INSERT INTO message_ids (id, conversation_id, seq) VALUES (?, ?, ?) USING TTL ?`,
  insertClientId: `INSERT INTO message_client_ids (sender_id, client_msg_id, id, conversation_id, seq) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
  insertEvent: `INSERT INTO message_events_by_target (target_id, seq, conversation_id, type) VALUES (?, ?, ?, ?) USING TTL ?`,
  insertByDay: `INSERT INTO messages_by_day (day, created_at, id, conversation_id, seq) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
  insertExpiry: `INSERT INTO message_expiries (day, expires_at, id, conversation_id, seq, media_id) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
  insertDay: `INSERT INTO message_days (kind, day) VALUES (?, ?)`,
  row: `SELECT ${COLS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
  rangeAsc: `SELECT ${COLS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq <= ? ORDER BY seq ASC`,
  rangeDesc: `SELECT ${COLS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq <= ? ORDER BY seq DESC`,
  byId: `SELECT conversation_id, seq FROM message_ids WHERE id = ?`,
  byClientId: `SELECT id, conversation_id, seq FROM message_client_ids WHERE sender_id = ? AND client_msg_id = ?`,
  edit: `UPDATE messages USING TTL ? SET body = ?, edited_at = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
  tombstone: `UPDATE messages USING TTL ? SET body = null, media_id = null, edited_at = null, deleted_at = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
  eventsOf: `SELECT seq, conversation_id, type FROM message_events_by_target WHERE target_id = ?`,
  reactionsOf: `SELECT message_id, user_id, emoji, reacted_seq, withheld_from FROM message_reactions WHERE message_id = ?`,
  react: `INSERT INTO message_reactions (message_id, user_id, emoji, reacted_seq, withheld_from) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
  unreact: `DELETE FROM message_reactions WHERE message_id = ? AND user_id = ?`,
  unreactAll: `DELETE FROM message_reactions WHERE message_id = ?`,
  hiddenOf: `SELECT message_id FROM message_hidden WHERE user_id = ? AND conversation_id = ?`,
  hide: `INSERT INTO message_hidden (user_id, conversation_id, message_id) VALUES (?, ?, ?)`,
  starMark: `SELECT starred_at FROM message_star_marks WHERE user_id = ? AND message_id = ?`,
  star: `INSERT INTO message_stars (user_id, starred_at, message_id) VALUES (?, ?, ?)`,
  starMarkSet: `INSERT INTO message_star_marks (user_id, message_id, starred_at) VALUES (?, ?, ?)`,
  unstar: `DELETE FROM message_stars WHERE user_id = ? AND starred_at = ? AND message_id = ?`,
  starMarkDelete: `DELETE FROM message_star_marks WHERE user_id = ? AND message_id = ?`,
  starsFirst: `SELECT starred_at, message_id FROM message_stars WHERE user_id = ?`,
  starsAfter: `SELECT starred_at, message_id FROM message_stars WHERE user_id = ? AND (starred_at, message_id) < (?, ?)`,
  days: `SELECT day FROM message_days WHERE kind = ? AND day <= ?`,
  dropDay: `DELETE FROM message_days WHERE kind = ? AND day = ?`,
  createdIn: `SELECT created_at, id, conversation_id, seq FROM messages_by_day WHERE day = ? AND created_at < ? LIMIT ?`,
  anyCreatedIn: `SELECT id FROM messages_by_day WHERE day = ? LIMIT 1`,
  expiringIn: `SELECT expires_at, id, conversation_id, seq, media_id FROM message_expiries WHERE day = ? AND expires_at <= ? LIMIT ?`,
  anyExpiringIn: `SELECT id FROM message_expiries WHERE day = ? LIMIT 1`,
  deleteRow: `DELETE FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
  deleteId: `DELETE FROM message_ids WHERE id = ?`,
  deleteClientId: `DELETE FROM message_client_ids WHERE sender_id = ? AND client_msg_id = ?`,
  deleteEvents: `DELETE FROM message_events_by_target WHERE target_id = ?`,
  deleteByDay: `DELETE FROM messages_by_day WHERE day = ? AND created_at = ? AND id = ?`,
  deleteExpiry: `DELETE FROM message_expiries WHERE day = ? AND expires_at = ? AND id = ?`,
} as const;

type Kind = 'created' | 'expires';

/** A uuid (the driver's Uuid, or text) as text. */
const str = (v: unknown): string | null =>
  v == null ? null : (v as { toString(): string }).toString();
const num = (v: unknown): number =>
  typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber();
const dayOf = (at: Date) => Math.floor(at.getTime() / DAY_MS);

function toMessage(r: types.Row): StoredMessage {
  return {
    id: String(r.get('id')),
    conversationId: String(r.get('conversation_id')),
    seq: num(r.get('seq')),
    senderId: String(r.get('sender_id')),
    senderDeviceId: String(r.get('sender_device_id')),
    clientMsgId: String(r.get('client_msg_id')),
    type: r.get('type') as MessageType,
    body: (r.get('body') as string | null) ?? null,
    mediaId: str(r.get('media_id')),
    targetId: str(r.get('target_id')),
    forwardScore: (r.get('forward_score') as number | null) ?? 0,
    viewOnce: (r.get('view_once') as boolean | null) ?? false,
    replyToId: str(r.get('reply_to_id')),
    withheldFrom: str(r.get('withheld_from')),
    createdAt: r.get('created_at') as Date,
    editedAt: (r.get('edited_at') as Date | null) ?? null,
    deletedAt: (r.get('deleted_at') as Date | null) ?? null,
    expiresAt: (r.get('expires_at') as Date | null) ?? null,
    e2e: (r.get('e2e') as boolean | null) ?? false,
  };
}

/** Where a message row lives, and what its rows' TTL follows. */
interface Located {
  conversationId: string;
  seq: number;
}

/**
 * Message history in Cassandra (ADR 0018), beside PostgreSQL: conversations, members,
 * watermarks and seq allocation stay there. A send is authorized and numbered in the
 * PostgreSQL transaction, and its rows are written to Cassandra while that transaction
 * still holds the conversation lock, before it commits; so a committed seq always has its
 * row, and rows of a send that never committed are recognised (seq above last_seq, or
 * overwritten by the seq's real message) and ignored.
 *
 * Messages the PostgreSQL side writes itself (system messages of group and timer changes)
 * and history from before the switch stay in PostgreSQL's messages table: every read here
 * merges that store's answer with Cassandra's.
 */
@Injectable()
export class MessageCassandraRepository extends MessagePostgresRepository {
  private readonly bucketSize: number;
  private readonly retentionSec: number;
  /** Days already recorded in message_days by this process (one write per day and kind). */
  private readonly knownDays = new Set<string>();

  constructor(
    private readonly pg: Db,
    private readonly cass: CassandraSession,
    config: AppConfig,
  ) {
    super(pg);
    this.bucketSize = config.cassandra.seqBucketSize;
    this.retentionSec = config.messages.retentionDays * 86_400;
  }

  private bucketOf(seq: number): number {
    return Math.floor(seq / this.bucketSize);
  }

  /** Rows of a message expire on their own a grace period after its expiry or retention. */
  private ttlOf(m: Pick<StoredMessage, 'createdAt' | 'expiresAt'>, now = Date.now()): number {
    let until = m.createdAt.getTime() + this.retentionSec * 1000;
    if (m.expiresAt) until = Math.min(until, m.expiresAt.getTime());
    return Math.max(1, Math.ceil((until - now) / 1000) + TTL_GRACE_SEC);
  }

  // --- locating messages ------------------------------------------------------------

  private async rowAt(conversationId: string, seq: number): Promise<StoredMessage | null> {
    const rs = await this.cass.read(Q.row, [conversationId, this.bucketOf(seq), seq]);
    const row = rs.first();
    return row && row.get('id') ? toMessage(row) : null;
  }

  private async locate(id: string): Promise<Located | null> {
    const row = (await this.cass.read(Q.byId, [id])).first();
    if (!row) return null;
    return { conversationId: String(row.get('conversation_id')), seq: num(row.get('seq')) };
  }

  /**
   * The message with this id, if its row is there and still its own (a send that never
   * committed may have left a pointer to a seq that another message took since).
   */
  private async loadById(id: string): Promise<StoredMessage | null> {
    const at = await this.locate(id);
    if (!at) return null;
    const m = await this.rowAt(at.conversationId, at.seq);
    return m && m.id === id ? m : null;
  }

  private async loadMany(ids: readonly string[]): Promise<StoredMessage[]> {
    const found = await Promise.all([...new Set(ids)].map((id) => this.loadById(id)));
    return found.filter((m): m is StoredMessage => !!m);
  }

  private async lastSeqs(
    conversationIds: readonly string[],
    runner: SqlRunner = this.pg,
  ): Promise<Map<string, number>> {
    const rows = await runner.query<{ id: string; last_seq: number }>(
      `SELECT id, last_seq FROM conversations WHERE id = ANY($1::uuid[])`,
      [[...new Set(conversationIds)]],
    );
    return new Map(rows.map((r) => [r.id, Number(r.last_seq)]));
  }

  /** The original of each draft's (sender, clientMsgId), if one committed. */
  private async originalsOf(
    drafts: readonly Pick<MessageDraft, 'senderId' | 'clientMsgId'>[],
    known: ReadonlyMap<string, number>,
  ): Promise<StoredMessage[]> {
    const hits = await Promise.all(
      drafts.map(async (d) => {
        const row = (await this.cass.read(Q.byClientId, [d.senderId, d.clientMsgId])).first();
        if (!row) return null;
        const m = await this.rowAt(String(row.get('conversation_id')), num(row.get('seq')));
        return m && m.id === String(row.get('id')) ? m : null;
      }),
    );
    return this.committed(
      hits.filter((m): m is StoredMessage => !!m),
      known,
    );
  }

  /**
   * Leaves out rows above their conversation's last seq: a send whose transaction never
   * committed wrote them. `known` holds last seqs already read (under the lock).
   */
  private async committed(
    found: StoredMessage[],
    known: ReadonlyMap<string, number> = new Map(),
    runner: SqlRunner = this.pg,
  ): Promise<StoredMessage[]> {
    const unknown = found.filter((m) => !known.has(m.conversationId)).map((m) => m.conversationId);
    const lastSeqs = new Map(known);
    if (unknown.length)
      for (const [id, seq] of await this.lastSeqs(unknown, runner)) lastSeqs.set(id, seq);
    return found.filter((m) => m.seq <= (lastSeqs.get(m.conversationId) ?? 0));
  }

  // --- the write path (hooks of the PostgreSQL adapter's append transaction) ----------

  protected override originalsUnderLock(
    drafts: readonly MessageDraft[],
    lastSeqs: ReadonlyMap<string, number>,
  ): Promise<StoredMessage[]> {
    return this.originalsOf(drafts, lastSeqs);
  }

  protected override async insertMessages(
    _tx: SqlRunner,
    messages: readonly StoredMessage[],
  ): Promise<void> {
    const writes: Array<Promise<void>> = [];
    const partitions = new Map<string, Array<{ query: string; params: unknown[] }>>();
    const toPartition = (key: string, query: string, params: unknown[]) => {
      let list = partitions.get(key);
      if (!list) partitions.set(key, (list = []));
      list.push({ query, params });
    };
    const now = Date.now();
    for (const m of messages) {
      const ttl = this.ttlOf(m, now);
      const bucket = this.bucketOf(m.seq);
      toPartition(`m:${m.conversationId}:${bucket}`, Q.insert, [
        bucket,
        m.id,
        m.conversationId,
        m.seq,
        m.senderId,
        m.senderDeviceId,
        m.clientMsgId,
        m.type,
        m.body,
        m.mediaId,
        m.targetId ?? null,
        m.forwardScore ?? 0,
        m.viewOnce ?? false,
        m.replyToId,
        m.withheldFrom,
        m.createdAt,
        null,
        null,
        m.expiresAt,
        !!m.e2e,
        ttl,
      ]);
      const day = dayOf(m.createdAt);
      toPartition(`d:${day}`, Q.insertByDay, [
        day,
        m.createdAt,
        m.id,
        m.conversationId,
        m.seq,
        ttl,
      ]);
      writes.push(this.recordDay('created', day));
      if (m.expiresAt) {
        const expiryDay = dayOf(m.expiresAt);
        toPartition(`e:${expiryDay}`, Q.insertExpiry, [
          expiryDay,
          m.expiresAt,
          m.id,
          m.conversationId,
          m.seq,
          m.mediaId,
          ttl,
        ]);
        writes.push(this.recordDay('expires', expiryDay));
      }
      if (m.targetId) {
        toPartition(`t:${m.targetId}`, Q.insertEvent, [
          m.targetId,
          m.seq,
          m.conversationId,
          m.type,
          ttl,
        ]);
      }
      writes.push(this.cass.write(Q.insertId, [m.id, m.conversationId, m.seq, ttl]));
      writes.push(
        this.cass.write(Q.insertClientId, [
          m.senderId,
          m.clientMsgId,
          m.id,
          m.conversationId,
          m.seq,
          ttl,
        ]),
      );
    }
    for (const statements of partitions.values()) writes.push(this.cass.writePartition(statements));
    await Promise.all(writes);
  }

  private async recordDay(kind: Kind, day: number): Promise<void> {
    const key = `${kind}:${day}`;
    if (this.knownDays.has(key)) return;
    await this.cass.write(Q.insertDay, [kind, day]);
    this.knownDays.add(key);
  }

  protected override async findOriginals(): Promise<StoredMessage[]> {
    // Looked up once the conversations are locked (originalsUnderLock); history still in
    // PostgreSQL answers there too.
    return [];
  }

  protected override async loadTargets(
    tx: SqlRunner,
    ids: readonly string[],
  ): Promise<StoredMessage[]> {
    const here = await this.committed(await this.loadMany(ids), new Map(), tx);
    const found = new Set(here.map((m) => m.id));
    const rest = ids.filter((id) => !found.has(id));
    // System messages and history from before the switch are in PostgreSQL.
    return rest.length ? [...here, ...(await super.loadTargets(tx, rest))] : here;
  }

  protected override async loadReactions(
    _tx: SqlRunner,
    ids: readonly string[],
  ): Promise<Array<{ messageId: string; userId: string; emoji: string }>> {
    const rows = (await Promise.all(ids.map((id) => this.cass.read(Q.reactionsOf, [id])))).flatMap(
      (rs) => rs.rows,
    );
    return rows
      .map((r) => ({
        messageId: String(r.get('message_id')),
        userId: String(r.get('user_id')),
        emoji: String(r.get('emoji')),
        reactedSeq: num(r.get('reacted_seq')),
      }))
      .sort((a, b) => a.reactedSeq - b.reactedSeq);
  }

  protected override async applyTargetEffects(
    tx: SqlRunner,
    effects: TargetEffects,
    seqOf: ReadonlyMap<MessageDraft, number>,
    now: Date,
  ): Promise<void> {
    const ids = [...new Set([...effects.edits.keys(), ...effects.deletes])];
    for (const d of effects.reactionDrafts.values()) ids.push(d.targetId!);
    const targets = new Map((await this.loadMany(ids)).map((m) => [m.id, m]));
    const inPg = (id: string) => !targets.has(id);
    if (ids.some(inPg)) {
      // Targets still in PostgreSQL (history from before the switch) change there.
      await super.applyTargetEffects(
        tx,
        {
          rejected: effects.rejected,
          edits: new Map([...effects.edits].filter(([id]) => inPg(id))),
          deletes: new Set([...effects.deletes].filter(inPg)),
          reactions: new Map([...effects.reactions].filter(([id]) => inPg(id))),
          reactionDrafts: new Map([...effects.reactionDrafts].filter(([, d]) => inPg(d.targetId!))),
        },
        seqOf,
        now,
      );
    }
    // End-to-end envelopes stay in PostgreSQL whichever store holds the message: a deleted
    // message's go in the same transaction, so no device can read it afterwards.
    await this.deleteEnvelopesOfMessages(
      tx,
      [...effects.deletes].filter((id) => !inPg(id)),
    );
    const writes: Array<Promise<void>> = [];
    for (const [id, body] of effects.edits) {
      const t = targets.get(id);
      if (!t) continue;
      writes.push(
        this.cass.write(Q.edit, [
          this.ttlOf(t),
          body,
          now,
          t.conversationId,
          this.bucketOf(t.seq),
          t.seq,
        ]),
      );
    }
    for (const [, d] of effects.reactionDrafts) {
      const t = targets.get(d.targetId!);
      if (!t || effects.deletes.has(t.id)) continue;
      const emoji = effects.reactions.get(t.id)?.get(d.senderId) ?? '';
      writes.push(
        emoji
          ? this.cass.write(Q.react, [
              t.id,
              d.senderId,
              emoji,
              seqOf.get(d) ?? 0,
              d.withheldFrom,
              this.ttlOf(t),
            ])
          : this.cass.write(Q.unreact, [t.id, d.senderId]),
      );
    }
    for (const id of effects.deletes) {
      const t = targets.get(id);
      if (!t) continue;
      // The target becomes a tombstone, and the edits and reactions pointing at it lose
      // their content too, so nothing of what was deleted can still be read.
      writes.push(this.tombstone(t, now));
      writes.push(this.cass.write(Q.unreactAll, [id]));
      writes.push(
        (async () => {
          const events = (await this.cass.read(Q.eventsOf, [id])).rows.filter((r) =>
            ['edit', 'reaction'].includes(String(r.get('type'))),
          );
          const rows = await Promise.all(
            events.map((r) => this.rowAt(String(r.get('conversation_id')), num(r.get('seq')))),
          );
          await Promise.all(
            rows.filter((m): m is StoredMessage => !!m).map((m) => this.tombstone(m, now)),
          );
        })(),
      );
    }
    await Promise.all(writes);
  }

  private tombstone(m: StoredMessage, now: Date): Promise<void> {
    return this.cass.write(Q.tombstone, [
      this.ttlOf(m),
      now,
      m.conversationId,
      this.bucketOf(m.seq),
      m.seq,
    ]);
  }

  // --- reads --------------------------------------------------------------------------

  /** The viewer's hidden message ids in these conversations. */
  private async hiddenIn(
    viewerId: string,
    conversationIds: readonly string[],
  ): Promise<Set<string>> {
    const results = await Promise.all(
      [...new Set(conversationIds)].map((c) => this.cass.read(Q.hiddenOf, [viewerId, c])),
    );
    return new Set(results.flatMap((rs) => rs.rows.map((r) => String(r.get('message_id')))));
  }

  /** What a viewer never reads: expired, hidden by them, or withheld from them. */
  private readable(m: StoredMessage, viewerId: string, hidden: ReadonlySet<string>, now: number) {
    return (
      (!m.expiresAt || m.expiresAt.getTime() > now) &&
      !hidden.has(m.id) &&
      m.withheldFrom !== viewerId
    );
  }

  /**
   * The messages of (low, high] of a conversation in seq order, bucket by bucket and page
   * by page, as far as the caller reads.
   */
  private async *scan(
    conversationId: string,
    low: number,
    high: number,
    order: 'asc' | 'desc',
  ): AsyncGenerator<StoredMessage> {
    if (high <= low) return;
    const first = this.bucketOf(low + 1);
    const last = this.bucketOf(high);
    const query = order === 'asc' ? Q.rangeAsc : Q.rangeDesc;
    for (let i = 0; i <= last - first; i++) {
      const bucket = order === 'asc' ? first + i : last - i;
      let pageState: string | undefined;
      do {
        const rs = await this.cass.read(query, [conversationId, bucket, low, high], { pageState });
        for (const row of rs.rows) if (row.get('id')) yield toMessage(row);
        pageState = rs.pageState ?? undefined;
      } while (pageState);
    }
  }

  override async findById(id: string): Promise<StoredMessage | null> {
    const found = await this.loadById(id);
    if (!found) return super.findById(id);
    const [committed] = await this.committed([found]);
    return committed ?? null;
  }

  override async findBySenderAndClientId(
    senderId: string,
    clientMsgId: string,
  ): Promise<StoredMessage | null> {
    const [found] = await this.originalsOf([{ senderId, clientMsgId }], new Map());
    return found ?? super.findBySenderAndClientId(senderId, clientMsgId);
  }

  override async history(
    q: HistoryQuery,
  ): Promise<{ messages: MessageWithReactions[]; hasMore: boolean }> {
    const low = Math.max(q.minSeqExclusive, q.afterSeq ?? q.minSeqExclusive);
    let high = Math.min(q.maxSeq, q.beforeSeq !== undefined ? q.beforeSeq - 1 : q.maxSeq);
    if (high <= low) return { messages: [], hasMore: false };
    const ascending = q.afterSeq !== undefined && q.beforeSeq === undefined;
    const [fromPg, hidden, lastSeqs] = await Promise.all([
      super.history(q),
      this.hiddenIn(q.viewerId, [q.conversationId]),
      this.lastSeqs([q.conversationId]),
    ]);
    // Rows above the last seq are of sends that never committed.
    high = Math.min(high, lastSeqs.get(q.conversationId) ?? 0);
    const now = Date.now();
    const page: StoredMessage[] = [];
    for await (const m of this.scan(q.conversationId, low, high, ascending ? 'asc' : 'desc')) {
      if (!this.readable(m, q.viewerId, hidden, now)) continue;
      page.push(m);
      if (page.length > q.limit) break;
    }
    const reactions = await this.reactionsFor(
      page.map((m) => m.id),
      q.viewerId,
    );
    const merged: MessageWithReactions[] = [
      ...fromPg.messages,
      ...page.map((m) => ({ ...m, reactions: reactions.get(m.id) ?? [] })),
    ].sort((a, b) => a.seq - b.seq);
    const total = merged.length + (fromPg.hasMore ? 1 : 0);
    const messages = ascending ? merged.slice(0, q.limit) : merged.slice(-q.limit);
    return { messages, hasMore: total > q.limit };
  }

  /** Each message's reactions, grouped by emoji in the order each emoji was first used. */
  private async reactionsFor(
    ids: readonly string[],
    viewerId: string,
  ): Promise<Map<string, ReactionSummary[]>> {
    const rows = (await Promise.all(ids.map((id) => this.cass.read(Q.reactionsOf, [id]))))
      .flatMap((rs) => rs.rows)
      .filter((r) => str(r.get('withheld_from')) !== viewerId)
      .map((r) => ({
        messageId: String(r.get('message_id')),
        userId: String(r.get('user_id')),
        emoji: String(r.get('emoji')),
        seq: num(r.get('reacted_seq')),
      }))
      .sort((a, b) => a.seq - b.seq || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    return summarizeReactions(rows);
  }

  override async pending(
    ranges: readonly PendingRange[],
    q: PendingQuery,
  ): Promise<StoredMessage[]> {
    if (!ranges.length || q.limit <= 0) return [];
    const [fromPg, hidden] = await Promise.all([
      super.pending(ranges, q),
      this.hiddenIn(
        q.viewerId,
        ranges.map((r) => r.conversationId),
      ),
    ]);
    const now = Date.now();
    const out: StoredMessage[] = [];
    for (const r of ranges) {
      const own = fromPg.filter((m) => m.conversationId === r.conversationId);
      const mine: StoredMessage[] = [];
      for await (const m of this.scan(r.conversationId, r.afterSeq, r.untilSeq, 'asc')) {
        if (m.senderDeviceId === q.deviceId || !this.readable(m, q.viewerId, hidden, now)) continue;
        mine.push(m);
        if (out.length + mine.length >= q.limit) break;
      }
      out.push(...[...own, ...mine].sort((a, b) => a.seq - b.seq));
      if (out.length >= q.limit) break;
    }
    return out.slice(0, q.limit);
  }

  override async latestVisible(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, StoredMessage>> {
    if (!ranges.length) return new Map();
    const [out, hidden] = await Promise.all([
      super.latestVisible(ranges, viewerId),
      this.hiddenIn(
        viewerId,
        ranges.map((r) => r.conversationId),
      ),
    ]);
    const now = Date.now();
    await Promise.all(
      ranges.map(async (r) => {
        for await (const m of this.scan(r.conversationId, r.afterSeq, r.untilSeq, 'desc')) {
          if (!this.readable(m, viewerId, hidden, now)) continue;
          const other = out.get(r.conversationId);
          if (!other || other.seq < m.seq) out.set(r.conversationId, m);
          break;
        }
      }),
    );
    return out;
  }

  override async countFromOthers(
    ranges: readonly PendingRange[],
    viewerId: string,
  ): Promise<Map<string, number>> {
    const open = ranges.filter((r) => r.untilSeq > r.afterSeq);
    if (!open.length) return new Map();
    const [out, hidden] = await Promise.all([
      super.countFromOthers(open, viewerId),
      this.hiddenIn(
        viewerId,
        open.map((r) => r.conversationId),
      ),
    ]);
    const now = Date.now();
    await Promise.all(
      open.map(async (r) => {
        let n = 0;
        for await (const m of this.scan(r.conversationId, r.afterSeq, r.untilSeq, 'asc')) {
          if (m.senderId === viewerId || !isUserContent(m.type)) continue;
          if (this.readable(m, viewerId, hidden, now)) n++;
        }
        if (n) out.set(r.conversationId, (out.get(r.conversationId) ?? 0) + n);
      }),
    );
    return out;
  }

  override async sendersBetween(
    conversationId: string,
    afterSeq: number,
    untilSeq: number,
    viewerId?: string,
  ): Promise<string[]> {
    if (untilSeq <= afterSeq) return [];
    const senders = new Set(
      await super.sendersBetween(conversationId, afterSeq, untilSeq, viewerId),
    );
    for await (const m of this.scan(conversationId, afterSeq, untilSeq, 'asc')) {
      if (m.type === 'system' || (viewerId && m.withheldFrom === viewerId)) continue;
      senders.add(m.senderId);
    }
    return [...senders];
  }

  override async visibleTo(userId: string, messageIds: readonly string[]): Promise<string[]> {
    if (!messageIds.length) return [];
    const [fromPg, found] = await Promise.all([
      super.visibleTo(userId, messageIds),
      this.loadMany(messageIds).then((found) => this.committed(found)),
    ]);
    const now = Date.now();
    const candidates = found.filter(
      (m) =>
        m.withheldFrom !== userId && !m.deletedAt && (!m.expiresAt || m.expiresAt.getTime() > now),
    );
    if (!candidates.length) return fromPg;
    const members = await this.pg.query<{
      conversation_id: string;
      joined_seq: number;
      left_seq: number | null;
    }>(
      `SELECT conversation_id, joined_seq, left_seq FROM conversation_members
        WHERE user_id = $1 AND conversation_id = ANY($2::uuid[])`,
      [userId, [...new Set(candidates.map((m) => m.conversationId))]],
    );
    const membership = new Map(members.map((r) => [r.conversation_id, r]));
    const visible = candidates.filter((m) => {
      const member = membership.get(m.conversationId);
      return (
        !!member &&
        m.seq > Number(member.joined_seq) &&
        (member.left_seq === null || m.seq <= Number(member.left_seq))
      );
    });
    return [...fromPg, ...visible.map((m) => m.id)];
  }

  // --- purges -------------------------------------------------------------------------

  /** Deletes every row of these messages, and returns them. */
  private async purge(messages: readonly StoredMessage[]): Promise<void> {
    // End-to-end envelopes are kept in PostgreSQL whichever store holds the message.
    await this.deleteEnvelopesOfMessages(
      this.pg,
      messages.filter((m) => m.e2e).map((m) => m.id),
    );
    await Promise.all(
      messages.flatMap((m) => {
        const writes = [
          this.cass.write(Q.deleteRow, [m.conversationId, this.bucketOf(m.seq), m.seq]),
          this.cass.write(Q.deleteId, [m.id]),
          this.cass.write(Q.deleteClientId, [m.senderId, m.clientMsgId]),
          this.cass.write(Q.unreactAll, [m.id]),
          this.cass.write(Q.deleteEvents, [m.id]),
          this.cass.write(Q.deleteByDay, [dayOf(m.createdAt), m.createdAt, m.id]),
        ];
        if (m.expiresAt)
          writes.push(this.cass.write(Q.deleteExpiry, [dayOf(m.expiresAt), m.expiresAt, m.id]));
        return writes;
      }),
    );
  }

  /**
   * Walks the days of one index (`created` or `expires`) up to `until`, oldest first,
   * taking up to `batchSize` entries before `until`; days left empty are forgotten.
   */
  private async due(
    kind: Kind,
    until: Date,
    batchSize: number,
  ): Promise<Array<{ id: string; conversationId: string; seq: number }>> {
    const out: Array<{ id: string; conversationId: string; seq: number }> = [];
    const days = (await this.cass.read(Q.days, [kind, dayOf(until)])).rows.map((r) =>
      Number(r.get('day')),
    );
    for (const day of days) {
      if (out.length >= batchSize) break;
      const rs = await this.cass.read(kind === 'created' ? Q.createdIn : Q.expiringIn, [
        day,
        until,
        batchSize - out.length,
      ]);
      for (const r of rs.rows)
        out.push({
          id: String(r.get('id')),
          conversationId: String(r.get('conversation_id')),
          seq: num(r.get('seq')),
        });
      if (!rs.rows.length && day < dayOf(until)) {
        const left = await this.cass.read(kind === 'created' ? Q.anyCreatedIn : Q.anyExpiringIn, [
          day,
        ]);
        if (!left.rows.length) {
          await this.cass.write(Q.dropDay, [kind, day]);
          this.knownDays.delete(`${kind}:${day}`);
        }
      }
    }
    return out;
  }

  /** The rows of index entries, dropping entries whose message is gone or not theirs. */
  private async rowsOf(
    entries: ReadonlyArray<{ id: string; conversationId: string; seq: number }>,
  ): Promise<StoredMessage[]> {
    const rows = await Promise.all(entries.map((e) => this.rowAt(e.conversationId, e.seq)));
    return rows.filter((m, i): m is StoredMessage => !!m && m.id === entries[i].id);
  }

  override async deleteCreatedBefore(before: Date, batchSize: number): Promise<number> {
    const entries = await this.due('created', before, batchSize);
    const messages = await this.rowsOf(entries);
    await this.purge(messages);
    // Stale entries (of sends that never committed) go too, without counting.
    await Promise.all(
      entries
        .filter((e) => !messages.some((m) => m.id === e.id))
        .map(async (e) => {
          const row = (await this.cass.read(Q.byId, [e.id])).first();
          if (row) await this.cass.write(Q.deleteId, [e.id]);
        }),
    );
    const rest = batchSize - messages.length;
    return messages.length + (rest > 0 ? await super.deleteCreatedBefore(before, rest) : 0);
  }

  override async deleteExpired(now: Date, batchSize: number): Promise<PurgedMessage[]> {
    const messages = (await this.rowsOf(await this.due('expires', now, batchSize))).filter(
      (m) => m.expiresAt && m.expiresAt.getTime() <= now.getTime(),
    );
    await this.purge(messages);
    const purged = messages.map((m) => ({
      id: m.id,
      conversationId: m.conversationId,
      mediaId: m.mediaId,
    }));
    const rest = batchSize - purged.length;
    return rest > 0 ? [...purged, ...(await super.deleteExpired(now, rest))] : purged;
  }

  // --- per-user marks -----------------------------------------------------------------

  /** Splits ids into those stored here and the rest (in PostgreSQL). */
  private async split(ids: readonly string[]): Promise<[StoredMessage[], string[]]> {
    const here = await this.loadMany(ids);
    const mine = new Set(here.map((m) => m.id));
    return [here, [...new Set(ids)].filter((id) => !mine.has(id))];
  }

  override async hide(
    userId: string,
    conversationId: string,
    messageIds: readonly string[],
  ): Promise<void> {
    if (!messageIds.length) return;
    const [here, rest] = await this.split(messageIds);
    await Promise.all([
      ...here.map((m) => this.cass.write(Q.hide, [userId, conversationId, m.id])),
      // A hidden message leaves the starred list too.
      ...here.map((m) => this.unstar(userId, m.id)),
    ]);
    if (rest.length) await super.hide(userId, conversationId, rest);
  }

  override async star(userId: string, messageId: string, at: Date): Promise<void> {
    const found = await this.loadById(messageId);
    if (!found || !(await this.committed([found])).length) return super.star(userId, messageId, at);
    const mark = (await this.cass.read(Q.starMark, [userId, messageId])).first();
    if (mark) return;
    await Promise.all([
      this.cass.write(Q.star, [userId, at, messageId]),
      this.cass.write(Q.starMarkSet, [userId, messageId, at]),
    ]);
  }

  override async unstar(userId: string, messageId: string): Promise<void> {
    const mark = (await this.cass.read(Q.starMark, [userId, messageId])).first();
    if (mark) {
      await Promise.all([
        this.cass.write(Q.unstar, [userId, mark.get('starred_at'), messageId]),
        this.cass.write(Q.starMarkDelete, [userId, messageId]),
      ]);
      return;
    }
    await super.unstar(userId, messageId);
  }

  override async starred(
    userId: string,
    after: StarredCursor | null,
    limit: number,
  ): Promise<StarredMessage[]> {
    if (limit <= 0) return [];
    const fromPg = await super.starred(userId, after, limit);
    const out: StarredMessage[] = [];
    const now = Date.now();
    let pageState: string | undefined;
    do {
      const rs = after
        ? await this.cass.read(Q.starsAfter, [userId, after.starredAt, after.messageId], {
            pageState,
            fetchSize: limit,
          })
        : await this.cass.read(Q.starsFirst, [userId], { pageState, fetchSize: limit });
      const marks = rs.rows.map((r) => ({
        id: String(r.get('message_id')),
        at: r.get('starred_at') as Date,
      }));
      const messages = new Map((await this.loadMany(marks.map((m) => m.id))).map((m) => [m.id, m]));
      const hidden = await this.hiddenIn(
        userId,
        [...messages.values()].map((m) => m.conversationId),
      );
      for (const mark of marks) {
        const m = messages.get(mark.id);
        if (m && this.readable(m, '', hidden, now)) out.push({ message: m, starredAt: mark.at });
      }
      pageState = rs.pageState ?? undefined;
    } while (pageState && out.length < limit);
    return [...fromPg, ...out]
      .sort(
        (a, b) =>
          b.starredAt.getTime() - a.starredAt.getTime() ||
          (a.message.id < b.message.id ? 1 : a.message.id > b.message.id ? -1 : 0),
      )
      .slice(0, limit);
  }
}

/** What an unread count counts: members' own content, not events or system records. */
function isUserContent(type: MessageType): boolean {
  return !['system', 'edit', 'delete', 'reaction'].includes(type);
}
