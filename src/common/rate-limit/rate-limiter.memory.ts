import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { RateLimiter, type RateDecision } from './rate-limiter';

/** An exact sliding log per key: the timestamps of the accepted events inside the window. */
@Injectable()
export class MemoryRateLimiter extends RateLimiter implements OnModuleDestroy {
  private readonly logs = new Map<string, { windowMs: number; times: number[] }>();
  private readonly distinct = new Map<string, { windowMs: number; members: Map<string, number> }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    super();
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    let log = this.logs.get(key);
    if (!log) {
      log = { windowMs, times: [] };
      this.logs.set(key, log);
    }
    const times = log.times;
    let drop = 0;
    while (drop < times.length && times[drop] <= now - windowMs) drop++;
    if (drop) times.splice(0, drop);
    if (times.length >= limit) {
      return {
        allowed: false,
        retryAfterMs: Math.max(1, times[times.length - limit] + windowMs - now),
      };
    }
    times.push(now);
    return { allowed: true, retryAfterMs: 0 };
  }

  async consumeDistinct(
    key: string,
    member: string,
    limit: number,
    windowMs: number,
  ): Promise<RateDecision> {
    const now = Date.now();
    let set = this.distinct.get(key);
    if (!set) {
      set = { windowMs, members: new Map() };
      this.distinct.set(key, set);
    }
    for (const [m, at] of set.members) if (at <= now - windowMs) set.members.delete(m);
    if (!set.members.has(member) && set.members.size >= limit) {
      const oldest = Math.min(...set.members.values());
      return { allowed: false, retryAfterMs: Math.max(1, oldest + windowMs - now) };
    }
    set.members.delete(member);
    set.members.set(member, now);
    return { allowed: true, retryAfterMs: 0 };
  }

  async peek(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    const times = (this.logs.get(key)?.times ?? []).filter((t) => t > now - windowMs);
    if (times.length < limit) return { allowed: true, retryAfterMs: 0 };
    return {
      allowed: false,
      retryAfterMs: Math.max(1, times[times.length - limit] + windowMs - now),
    };
  }

  async refund(key: string): Promise<void> {
    this.logs.get(key)?.times.pop();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, set] of this.distinct) {
      const last = Math.max(0, ...set.members.values());
      if (last <= now - set.windowMs) this.distinct.delete(key);
    }
    for (const [key, log] of this.logs) {
      const last = log.times[log.times.length - 1];
      if (last === undefined || last <= now - log.windowMs) this.logs.delete(key);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
