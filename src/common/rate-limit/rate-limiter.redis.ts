import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisConnections } from '../redis/redis.connections';
import { RateLimiter, type RateDecision } from './rate-limiter';

/**
 * A sorted set per key holds the accepted events' times; one Lua call trims, counts and
 * adds atomically, so concurrent instances share one exact sliding window.
 */
const SCRIPT = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return -1`;

/** The same window over distinct members: a member already inside renews its time. */
const DISTINCT_SCRIPT = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if not redis.call('ZSCORE', key, member) then
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return tonumber(oldest[2]) + window - now
  end
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return -1`;

const PEEK = `
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = redis.call('ZCOUNT', key, '(' .. (now - window), '+inf')
if count < limit then return -1 end
local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
return tonumber(oldest[2]) + window - now`;

@Injectable()
export class RedisRateLimiter extends RateLimiter {
  constructor(private readonly redis: RedisConnections) {
    super();
  }

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    const result = (await this.redis.client.eval(
      SCRIPT,
      1,
      `${this.redis.keyPrefix}:rl:${key}`,
      now,
      windowMs,
      limit,
      `${now}:${randomUUID()}`,
    )) as number;
    return decision(result);
  }

  async consumeDistinct(
    key: string,
    member: string,
    limit: number,
    windowMs: number,
  ): Promise<RateDecision> {
    const result = (await this.redis.client.eval(
      DISTINCT_SCRIPT,
      1,
      `${this.redis.keyPrefix}:rld:${key}`,
      Date.now(),
      windowMs,
      limit,
      member,
    )) as number;
    return decision(result);
  }

  async peek(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    const result = (await this.redis.client.eval(
      PEEK,
      1,
      `${this.redis.keyPrefix}:rl:${key}`,
      now,
      windowMs,
      limit,
    )) as number;
    return result < 0
      ? { allowed: true, retryAfterMs: 0 }
      : { allowed: false, retryAfterMs: Math.max(1, result) };
  }

  async refund(key: string): Promise<void> {
    await this.redis.client.zpopmax(`${this.redis.keyPrefix}:rl:${key}`);
  }
}

function decision(result: number): RateDecision {
  return result < 0
    ? { allowed: true, retryAfterMs: 0 }
    : { allowed: false, retryAfterMs: Math.max(1, result) };
}
