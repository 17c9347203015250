import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type { CallMedia, CallOutcome } from '../../domain/call';
import { CallHistoryRepository, type CallRecord } from '../../ports/call-history.repository';

interface CallRow {
  id: string;
  conversation_id: string;
  caller_id: string;
  media: CallMedia;
  outcome: CallOutcome;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date;
  duration_sec: number;
}

const toRecord = (r: CallRow): CallRecord => ({
  id: r.id,
  conversationId: r.conversation_id,
  callerId: r.caller_id,
  media: r.media,
  outcome: r.outcome,
  startedAt: r.started_at,
  answeredAt: r.answered_at,
  endedAt: r.ended_at,
  durationSec: r.duration_sec,
});

@Injectable()
export class CallHistoryPostgresRepository extends CallHistoryRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async record(call: CallRecord, participantIds: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO calls (id, conversation_id, caller_id, media, outcome, started_at, answered_at, ended_at, duration_sec)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          call.id,
          call.conversationId,
          call.callerId,
          call.media,
          call.outcome,
          call.startedAt,
          call.answeredAt,
          call.endedAt,
          call.durationSec,
        ],
      );
      if (!inserted.length) return;
      await tx.query(
        `INSERT INTO call_participants (user_id, call_id)
         SELECT DISTINCT u, $2::uuid FROM unnest($1::uuid[]) AS u`,
        [participantIds, call.id],
      );
    });
  }

  async listForUser(userId: string, limit: number, beforeId?: string): Promise<CallRecord[]> {
    // Call ids are UUIDv7, so their order is the order the calls started in.
    const rows = await this.db.query<CallRow>(
      `SELECT c.* FROM call_participants p JOIN calls c ON c.id = p.call_id
        WHERE p.user_id = $1 AND ($2::uuid IS NULL OR p.call_id < $2::uuid)
        ORDER BY p.call_id DESC LIMIT $3`,
      [userId, beforeId ?? null, limit],
    );
    return rows.map(toRecord);
  }
}
