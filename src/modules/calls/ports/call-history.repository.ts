import type { CallMedia, CallOutcome } from '../domain/call';

/** One finished call, as `GET /calls` shows it. */
export interface CallRecord {
  id: string;
  conversationId: string;
  callerId: string;
  media: CallMedia;
  outcome: CallOutcome;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date;
  durationSec: number;
}

/** Finished calls and who each one concerns. */
export abstract class CallHistoryRepository {
  /** Stores a finished call once; recording the same id again changes nothing. */
  abstract record(call: CallRecord, participantIds: readonly string[]): Promise<void>;

  /** The user's calls, newest first, older than the call `beforeId` when given. */
  abstract listForUser(userId: string, limit: number, beforeId?: string): Promise<CallRecord[]>;
}
