import type { CallState } from '../domain/call';

/** Why a conditional write was refused. */
export type ReplaceResult = 'ok' | 'conflict' | 'gone' | 'busy';

/**
 * Live calls, cluster-wide. A call is written whole, and only if its version is still the
 * one the writer read (compare-and-set), so two instances acting on one call at once get one
 * winner; the loser re-reads and decides again. Each user in a call holds a slot naming
 * it, claimed in the same atomic step as the call write: that is how "busy" and "one call
 * at a time" hold across instances. Everything expires after `ttlMs` unless touched, so an
 * instance that crashes leaves no call ringing, and nobody busy, for ever.
 */
export abstract class CallStateStore {
  /** Stores a new call and claims its caller's slot; false when the caller is in another call. */
  abstract create(call: CallState, ttlMs: number): Promise<boolean>;

  abstract get(callId: string): Promise<CallState | null>;

  /** The call whose slot the user holds, if any. */
  abstract currentCallOf(userId: string): Promise<string | null>;

  /**
   * Writes `next` if the stored call is still at `previous.version`. Users joined in `next`
   * (unless it has ended) claim their slot, `busy` if another call holds it; users of
   * `previous` who are not claimed any more release theirs.
   */
  abstract replace(previous: CallState, next: CallState, ttlMs: number): Promise<ReplaceResult>;

  /** Extends the expiry of a live call and of its joined users' slots. False if it is gone. */
  abstract touch(callId: string, ttlMs: number): Promise<boolean>;
}

/** Users whose slot a call holds: its joined users while it has not ended. */
export function slotHolders(call: CallState): string[] {
  return call.status === 'ended' ? [] : call.joined.map((j) => j.userId);
}
