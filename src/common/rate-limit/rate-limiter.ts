export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until one more would be allowed. */
  retryAfterMs: number;
}

/**
 * Sliding-window limits: at most `limit` events per key in any `windowMs`. In memory on a
 * single instance; in Redis when REDIS_URL is set, so the limit holds across instances.
 */
export abstract class RateLimiter {
  abstract consume(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /**
   * At most `limit` distinct members per key in any `windowMs`: a member already counted
   * in the window is allowed again (and its time renewed), a new one only while fewer
   * than `limit` are counted.
   */
  abstract consumeDistinct(
    key: string,
    member: string,
    limit: number,
    windowMs: number,
  ): Promise<RateDecision>;
  /**
   * Whether one more event would be accepted now, without counting one: for limits that
   * count only some outcomes (wrong guesses), counted with `consume` once known.
   */
  abstract peek(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /**
   * Gives back one accepted event of the key (the newest): to roll back the other limits when
   * one of several taken together refuses.
   */
  abstract refund(key: string): Promise<void>;
}
