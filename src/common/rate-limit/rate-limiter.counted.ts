import type { Counter } from 'prom-client';
import type { MetricsRegistry } from '../metrics/metrics.registry';
import { RateLimiter, type RateDecision } from './rate-limiter';

/**
 * Counts refusals per limit, named by the key's first segment (`msg:<user>` counts as
 * `msg`), so the label stays bounded whatever the keys hold.
 */
export class CountedRateLimiter extends RateLimiter {
  private readonly refused: Counter;

  constructor(
    private readonly inner: RateLimiter,
    metrics: MetricsRegistry,
  ) {
    super();
    this.refused = metrics.counter(
      'parley_rate_limited_total',
      'Requests refused by a rate or abuse limit, by limit',
      ['limit'],
    );
  }

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    return this.counted(key, await this.inner.consume(key, limit, windowMs));
  }

  async consumeDistinct(
    key: string,
    member: string,
    limit: number,
    windowMs: number,
  ): Promise<RateDecision> {
    return this.counted(key, await this.inner.consumeDistinct(key, member, limit, windowMs));
  }

  peek(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    return this.inner.peek(key, limit, windowMs);
  }

  refund(key: string): Promise<void> {
    return this.inner.refund(key);
  }

  private counted(key: string, decision: RateDecision): RateDecision {
    if (!decision.allowed) {
      const colon = key.indexOf(':');
      this.refused.inc({ limit: colon > 0 ? key.slice(0, Math.min(colon, 40)) : 'other' });
    }
    return decision;
  }
}
