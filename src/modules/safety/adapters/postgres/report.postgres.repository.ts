import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type { MessageView } from '../../../../common/realtime/socket-events';
import type { Report, ReportReason } from '../../domain/report';
import { ReportRepository, type ReportQuery } from '../../ports/report.repository';

interface ReportRow {
  id: string;
  reporter_id: string;
  reported_id: string;
  message_id: string | null;
  reason: ReportReason;
  note: string;
  messages: MessageView[];
  created_at: Date;
}

const columns = 'id, reporter_id, reported_id, message_id, reason, note, messages, created_at';

function toReport(r: ReportRow): Report {
  return {
    id: r.id,
    reporterId: r.reporter_id,
    userId: r.reported_id,
    messageId: r.message_id,
    reason: r.reason,
    note: r.note,
    messages: r.messages,
    createdAt: r.created_at,
  };
}

@Injectable()
export class ReportPostgresRepository extends ReportRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(report: Omit<Report, 'createdAt'>): Promise<Report> {
    const [row] = await this.db.query<ReportRow>(
      `INSERT INTO reports (id, reporter_id, reported_id, message_id, reason, note, messages)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING ${columns}`,
      [
        report.id,
        report.reporterId,
        report.userId,
        report.messageId,
        report.reason,
        report.note,
        JSON.stringify(report.messages),
      ],
    );
    return toReport(row);
  }

  async list(query: ReportQuery): Promise<Report[]> {
    const rows = await this.db.query<ReportRow>(
      `SELECT ${columns} FROM reports
        WHERE ($2::uuid IS NULL OR id < $2) AND ($3::uuid IS NULL OR reported_id = $3)
        ORDER BY id DESC LIMIT $1`,
      [query.limit, query.beforeId ?? null, query.userId ?? null],
    );
    return rows.map(toReport);
  }
}
