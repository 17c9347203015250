import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { RedisConnections } from '../../../../common/redis/redis.connections';
import {
  PresenceStore,
  type ConnectionRef,
  type OfflineTransition,
  type PresenceChange,
  type PresenceListener,
  type PresenceState,
} from '../../ports/presence.store';

export interface PresenceRedisStoreOptions {
  /** How long an instance's connections live without a heartbeat refresh. */
  ttlMs: number;
  /** Namespace for keys and the change channel; tests use their own. */
  keyPrefix?: string;
  /** How long the state of an offline user is kept (it only carries the version). */
  offlineStateTtlMs?: number;
}

const DEFAULT_PREFIX = 'parley:presence:';
const DEFAULT_OFFLINE_STATE_TTL_MS = 7 * 86_400_000;
/** Users settled per script call, so one call never blocks Redis for long. */
const SETTLE_BATCH = 500;

/*
 * Layout, all under the prefix:
 *   instances            ZSET instanceId -> last heartbeat (ms)
 *   alive:<instanceId>   STRING that expires after the TTL; each heartbeat renews it
 *   instconns:<instId>   SET "userId connectionId" held by that instance
 *   conns:<userId>       HASH connectionId -> "instanceId deviceId" (gone when empty)
 *   state:<userId>       HASH online ('1' | '0'), version
 *   gone                 ZSET userId -> when their last connection went (ms)
 *   changes              pub/sub channel of every announced change
 *
 * Each operation is one Lua script, so the transitions are atomic across instances and the
 * PUBLISH happens in the same step as the state change: the channel carries the changes in
 * the order they happened, and a change is never announced without being stored.
 * The reaping and settling scripts build key names from the prefix, which is fine on a
 * single Redis (the only topology REDIS_URL describes) but would not be on Redis Cluster.
 */

const CONNECT = `
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
local current = redis.call('HMGET', KEYS[2], 'online', 'version')
if current[1] == '1' then return 0 end
local version = string.format('%.0f', math.max(tonumber(ARGV[4]), tonumber(current[2] or '0') + 1))
redis.call('HSET', KEYS[2], 'online', '1', 'version', version)
redis.call('PERSIST', KEYS[2])
redis.call('PUBLISH', ARGV[5], cjson.encode({ kind = 'online', userId = ARGV[1], version = version }))
return 1`;

const DISCONNECT = `
redis.call('SREM', KEYS[2], ARGV[1] .. ' ' .. ARGV[2])
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1`;

const HEARTBEAT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])`;

/** Drops an instance's connections; users left with none are gone since goneAt. */
const DROP_INSTANCE_FN = `
local function drop(prefix, goneKey, instanceId, goneAt)
  local set = prefix .. 'instconns:' .. instanceId
  local emptied = {}
  for _, entry in ipairs(redis.call('SMEMBERS', set)) do
    local space = string.find(entry, ' ', 1, true)
    local userId = string.sub(entry, 1, space - 1)
    local conns = prefix .. 'conns:' .. userId
    if redis.call('HDEL', conns, string.sub(entry, space + 1)) == 1
      and redis.call('EXISTS', conns) == 0 then
      redis.call('ZADD', goneKey, goneAt, userId)
      emptied[#emptied + 1] = userId
    end
  end
  redis.call('DEL', set)
  return emptied
end`;

const REAP = `${DROP_INSTANCE_FN}
local reaped = 0
local list = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #list, 2 do
  local instanceId, lastBeat = list[i], list[i + 1]
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. instanceId) == 0 then
    redis.call('ZREM', KEYS[1], instanceId)
    drop(ARGV[1], KEYS[2], instanceId, lastBeat)
    reaped = reaped + 1
  end
end
return reaped`;

const REMOVE_INSTANCE = `${DROP_INSTANCE_FN}
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[3])
return drop(ARGV[1], KEYS[2], ARGV[2], ARGV[3])`;

/**
 * ARGV: prefix, now, cutoff, channel, offline state TTL, batch, mode ('all' | 'only'), ids...
 * Returns { candidates examined, then userId, lastSeen, version of each transition }.
 */
const SETTLE = `
local prefix, now, cutoff = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local candidates = {}
if ARGV[7] == 'only' then
  for i = 8, #ARGV do candidates[#candidates + 1] = ARGV[i] end
else
  candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[6]))
end
local out = { #candidates }
for _, userId in ipairs(candidates) do
  local goneAt = redis.call('ZSCORE', KEYS[1], userId)
  if goneAt and tonumber(goneAt) <= cutoff then
    redis.call('ZREM', KEYS[1], userId)
    local state = prefix .. 'state:' .. userId
    local current = redis.call('HMGET', state, 'online', 'version')
    if current[1] == '1' and redis.call('EXISTS', prefix .. 'conns:' .. userId) == 0 then
      local version = string.format('%.0f', math.max(now, tonumber(current[2] or '0') + 1))
      local lastSeen = string.format('%.0f', tonumber(goneAt))
      redis.call('HSET', state, 'online', '0', 'version', version)
      redis.call('PEXPIRE', state, ARGV[5])
      redis.call('PUBLISH', ARGV[4], cjson.encode({
        kind = 'offline', userId = userId, version = version, lastSeen = lastSeen }))
      out[#out + 1] = userId
      out[#out + 1] = lastSeen
      out[#out + 1] = version
    end
  end
end
return out`;

/** A script run by its SHA, loaded on first use (or after Redis restarts and forgets it). */
class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>) {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const scripts = {
  connect: new LuaScript(CONNECT),
  disconnect: new LuaScript(DISCONNECT),
  heartbeat: new LuaScript(HEARTBEAT),
  reap: new LuaScript(REAP),
  removeInstance: new LuaScript(REMOVE_INSTANCE),
  settle: new LuaScript(SETTLE),
};

/** What travels on the channel; versions and times are decimal strings of milliseconds. */
const wireChange = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('online'), userId: z.string(), version: z.string() }),
  z.object({
    kind: z.literal('offline'),
    userId: z.string(),
    version: z.string(),
    lastSeen: z.string(),
  }),
  z.object({ kind: z.literal('refresh'), userId: z.string() }),
]);

function fromWire(message: string): PresenceChange | null {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return null;
  }
  const parsed = wireChange.safeParse(json);
  if (!parsed.success) return null;
  const change = parsed.data;
  switch (change.kind) {
    case 'online':
      return { kind: 'online', userId: change.userId, version: Number(change.version) };
    case 'offline':
      return {
        kind: 'offline',
        userId: change.userId,
        version: Number(change.version),
        lastSeen: new Date(Number(change.lastSeen)),
      };
    case 'refresh':
      return change;
  }
}

const asNumber = (value: unknown): number => Number(value);
const asStrings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((v) => String(v)) : [];

/**
 * Presence shared by every instance through Redis. Liveness is per instance, not per
 * connection: one expiring key per instance, renewed by its heartbeat, so a heartbeat costs
 * one command however many sockets the instance holds, and the connections of an instance
 * that stops beating are reaped by the others once the key has expired.
 */
@Injectable()
export class PresenceRedisStore extends PresenceStore {
  private readonly logger = new Logger(PresenceRedisStore.name);
  private readonly prefix: string;
  private readonly channel: string;
  private readonly offlineStateTtlMs: number;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: PresenceRedisStoreOptions,
  ) {
    super();
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.channel = `${this.prefix}changes`;
    this.offlineStateTtlMs = options.offlineStateTtlMs ?? DEFAULT_OFFLINE_STATE_TTL_MS;
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  async connect(ref: ConnectionRef, now: number): Promise<boolean> {
    const result = await scripts.connect.run(
      this.redis.client,
      [
        this.key('conns', ref.userId),
        this.key('state', ref.userId),
        this.key('instconns', ref.instanceId),
        this.key('gone'),
      ],
      [ref.userId, ref.connectionId, `${ref.instanceId} ${ref.deviceId}`, now, this.channel],
    );
    return asNumber(result) === 1;
  }

  async disconnect(ref: ConnectionRef, now: number): Promise<boolean> {
    const result = await scripts.disconnect.run(
      this.redis.client,
      [this.key('conns', ref.userId), this.key('instconns', ref.instanceId), this.key('gone')],
      [ref.userId, ref.connectionId, now],
    );
    return asNumber(result) === 1;
  }

  async heartbeat(instanceId: string, now: number): Promise<boolean> {
    const added = await scripts.heartbeat.run(
      this.redis.client,
      [this.key('alive', instanceId), this.key('instances')],
      [now, this.options.ttlMs, instanceId],
    );
    return asNumber(added) === 0;
  }

  async reapDeadInstances(): Promise<number> {
    const reaped = await scripts.reap.run(
      this.redis.client,
      [this.key('instances'), this.key('gone')],
      [this.prefix],
    );
    return asNumber(reaped);
  }

  async settle(
    now: number,
    graceMs: number,
    userIds?: readonly string[],
  ): Promise<OfflineTransition[]> {
    const transitions: OfflineTransition[] = [];
    const base = [
      this.prefix,
      now,
      now - graceMs,
      this.channel,
      this.offlineStateTtlMs,
      SETTLE_BATCH,
    ];
    /** Runs one batch; returns how many candidates it examined. */
    const run = async (args: ReadonlyArray<string | number>): Promise<number> => {
      const flat = asStrings(await scripts.settle.run(this.redis.client, [this.key('gone')], args));
      for (let i = 1; i + 2 < flat.length; i += 3) {
        transitions.push({
          userId: flat[i],
          lastSeen: new Date(Number(flat[i + 1])),
          version: Number(flat[i + 2]),
        });
      }
      return Number(flat[0] ?? 0);
    };
    if (userIds) {
      for (let i = 0; i < userIds.length; i += SETTLE_BATCH) {
        await run([...base, 'only', ...userIds.slice(i, i + SETTLE_BATCH)]);
      }
    } else {
      // A full batch may mean more are due; every candidate examined leaves the ZSET.
      while ((await run([...base, 'all'])) === SETTLE_BATCH);
    }
    return transitions;
  }

  async removeInstance(instanceId: string, now: number): Promise<string[]> {
    const emptied = await scripts.removeInstance.run(
      this.redis.client,
      [this.key('instances'), this.key('gone'), this.key('alive', instanceId)],
      [this.prefix, instanceId, now],
    );
    return asStrings(emptied);
  }

  async connectedDevices(userIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (!userIds.length) return out;
    const pipeline = this.redis.client.pipeline();
    for (const userId of userIds) pipeline.hvals(this.key('conns', userId));
    for (const [error, values] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      for (const value of asStrings(values)) {
        const deviceId = value.slice(value.indexOf(' ') + 1);
        if (deviceId) out.add(deviceId);
      }
    }
    return out;
  }

  async states(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    if (!userIds.length) return out;
    const pipeline = this.redis.client.pipeline();
    for (const userId of userIds) pipeline.hmget(this.key('state', userId), 'online', 'version');
    const results = (await pipeline.exec()) ?? [];
    userIds.forEach((userId, i) => {
      const [error, value] = results[i] ?? [null, null];
      if (error) throw error;
      const [online, version] = Array.isArray(value) ? (value as Array<string | null>) : [];
      out.set(userId, { online: online === '1', version: Number(version ?? 0) });
    });
    return out;
  }

  async announceRefresh(userId: string): Promise<void> {
    await this.redis.client.publish(this.channel, JSON.stringify({ kind: 'refresh', userId }));
  }

  async subscribe(listener: PresenceListener): Promise<() => Promise<void>> {
    // A connection in subscribe mode cannot run other commands, so each feed has its own.
    const subscriber = this.redis.create('presence-feed');
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const change = fromWire(message);
      if (change) listener(change);
      else this.logger.warn(`ignored a malformed presence change: ${message.slice(0, 200)}`);
    });
    await subscriber.subscribe(this.channel);
    return async () => {
      subscriber.removeAllListeners('message');
      // The connection itself is closed with the others by RedisConnections at shutdown.
      await subscriber.unsubscribe(this.channel).catch(() => undefined);
    };
  }
}
