import type { Report } from '../domain/report';

export interface ReportQuery {
  limit: number;
  /** Only reports older than this one (keyset paging; ids are time-ordered). */
  beforeId?: string;
  /** Only reports about this user. */
  userId?: string;
}

/** Storage of user reports for operators to review. */
export abstract class ReportRepository {
  abstract create(report: Omit<Report, 'createdAt'>): Promise<Report>;
  /** Newest first. */
  abstract list(query: ReportQuery): Promise<Report[]>;
}
