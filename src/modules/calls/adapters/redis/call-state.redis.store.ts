import type { Redis } from 'ioredis';
import type { CallState } from '../../domain/call';
import { CallStateStore, slotHolders, type ReplaceResult } from '../../ports/call-state.store';

/*
 * Layout, under the prefix:
 *   call:<callId>   HASH v (version), s (the call as JSON)
 *   slot:<userId>   STRING callId: the call this user is in
 * Every write is one Lua script, so the version check, the slot claims and the writes are
 * one atomic step however many instances race on the same call.
 */

/** KEYS: call, caller slot. ARGV: json, version, ttl ms, callId. */
const CREATE = `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
return 1`;

/**
 * KEYS: call, then the claimed slots, then the released slots.
 * ARGV: expected version, next version, json, ttl ms, callId, number of claims.
 * Returns 1 ok, 0 conflict, -1 gone, 2 busy.
 */
const REPLACE = `
local current = redis.call('HGET', KEYS[1], 'v')
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
local claims = tonumber(ARGV[6])
for i = 2, claims + 1 do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= ARGV[5] then return 2 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
for i = 2, claims + 1 do redis.call('SET', KEYS[i], ARGV[5], 'PX', ARGV[4]) end
for i = claims + 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[5] then redis.call('DEL', KEYS[i]) end
end
return 1`;

/** KEYS: call, then its holders' slots. ARGV: ttl ms, callId. */
const TOUCH = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return 1`;

const REPLACE_RESULTS: Record<number, ReplaceResult> = {
  1: 'ok',
  0: 'conflict',
  [-1]: 'gone',
  2: 'busy',
};

export class CallStateRedisStore extends CallStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  private callKey(callId: string): string {
    return `${this.prefix}call:${callId}`;
  }

  private slotKey(userId: string): string {
    return `${this.prefix}slot:${userId}`;
  }

  async create(call: CallState, ttlMs: number): Promise<boolean> {
    const result = await this.redis.eval(
      CREATE,
      2,
      this.callKey(call.id),
      this.slotKey(call.callerId),
      JSON.stringify(call),
      String(call.version),
      String(ttlMs),
      call.id,
    );
    return result === 1;
  }

  async get(callId: string): Promise<CallState | null> {
    const json = await this.redis.hget(this.callKey(callId), 's');
    return json ? (JSON.parse(json) as CallState) : null;
  }

  currentCallOf(userId: string): Promise<string | null> {
    return this.redis.get(this.slotKey(userId));
  }

  async replace(previous: CallState, next: CallState, ttlMs: number): Promise<ReplaceResult> {
    const claims = slotHolders(next);
    const releases = slotHolders(previous).filter((u) => !claims.includes(u));
    const keys = [
      this.callKey(previous.id),
      ...claims.map((u) => this.slotKey(u)),
      ...releases.map((u) => this.slotKey(u)),
    ];
    const result = (await this.redis.eval(
      REPLACE,
      keys.length,
      ...keys,
      String(previous.version),
      String(next.version),
      JSON.stringify(next),
      String(ttlMs),
      next.id,
      String(claims.length),
    )) as number;
    return REPLACE_RESULTS[result] ?? 'conflict';
  }

  async touch(callId: string, ttlMs: number): Promise<boolean> {
    const call = await this.get(callId);
    if (!call) return false;
    const keys = [this.callKey(callId), ...slotHolders(call).map((u) => this.slotKey(u))];
    const result = await this.redis.eval(TOUCH, keys.length, ...keys, String(ttlMs), callId);
    return result === 1;
  }
}
