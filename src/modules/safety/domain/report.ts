import type { MessageView } from '../../../common/realtime/socket-events';

export type ReportReason = 'spam' | 'abuse' | 'other';
export const REPORT_REASONS: readonly ReportReason[] = ['spam', 'abuse', 'other'];

/** How many of the conversation's latest messages a report carries. */
export const REPORT_MESSAGES = 5;

export interface Report {
  id: string;
  reporterId: string;
  /** The reported user. */
  userId: string;
  messageId: string | null;
  reason: ReportReason;
  note: string;
  /** The latest messages of the reporter's direct conversation with the reported user, as stored for the reporter, oldest first. */
  messages: MessageView[];
  createdAt: Date;
}
