import { randomUUID } from 'node:crypto';
import { loadConfig, readProcessEnv } from '../../src/common/config/app-config';
import { MetricsRegistry } from '../../src/common/metrics/metrics.registry';
import { RedisConnections } from '../../src/common/redis/redis.connections';
import { CallStateMemoryStore } from '../../src/modules/calls/adapters/memory/call-state.memory.store';
import { CallStateRedisStore } from '../../src/modules/calls/adapters/redis/call-state.redis.store';
import { accept, cancel, newCall, type CallState } from '../../src/modules/calls/domain/call';
import { CallStateStore } from '../../src/modules/calls/ports/call-state.store';

const TTL_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two views of one fresh backend, as two server instances would have (the same object for
 * the in-memory adapter, which serves one process).
 */
export interface CallStateStoreHarness {
  stores: [CallStateStore, CallStateStore];
  close(): Promise<void>;
}

function ringingCall(
  callerId: string = randomUUID(),
  calleeIds: string[] = [randomUUID()],
): CallState {
  return newCall({
    id: randomUUID(),
    conversationId: randomUUID(),
    group: calleeIds.length > 1,
    callerId,
    callerDeviceId: randomUUID(),
    media: 'audio',
    ringing: calleeIds.map((userId) => ({ userId, deviceIds: [randomUUID(), randomUUID()] })),
    withheld: [],
    now: Date.now(),
  });
}

/** The behaviour every CallStateStore adapter must have. */
export function callStateStoreContract(
  adapter: string,
  factory: () => Promise<CallStateStoreHarness>,
): void {
  describe(`CallStateStore contract: ${adapter}`, () => {
    let harness: CallStateStoreHarness;
    let one: CallStateStore;
    let two: CallStateStore;

    beforeAll(async () => {
      harness = await factory();
      [one, two] = harness.stores;
    });
    afterAll(async () => {
      await harness.close();
    });

    it('stores a call whole and gives its caller a slot, seen from every instance', async () => {
      const call = ringingCall();
      expect(await one.create(call, TTL_MS)).toBe(true);
      expect(await two.get(call.id)).toEqual(call);
      expect(await two.currentCallOf(call.callerId)).toBe(call.id);
      expect(await two.currentCallOf(call.ringing[0].userId)).toBeNull();
      expect(await two.get(randomUUID())).toBeNull();
    });

    it('refuses a second call from a caller who holds a slot', async () => {
      const first = ringingCall();
      const second = ringingCall(first.callerId);
      expect(await one.create(first, TTL_MS)).toBe(true);
      expect(await two.create(second, TTL_MS)).toBe(false);
      expect(await one.get(second.id)).toBeNull();
      expect(await one.currentCallOf(first.callerId)).toBe(first.id);
    });

    it('replaces only the version it was read at', async () => {
      const call = ringingCall();
      await one.create(call, TTL_MS);
      const answered = accept(call, call.ringing[0].userId, call.ringing[0].deviceIds[0], 1, 8);
      expect(await two.replace(call, answered.next, TTL_MS)).toBe('ok');
      expect(await one.get(call.id)).toEqual(answered.next);
      expect(await one.currentCallOf(call.ringing[0].userId)).toBe(call.id);
      // A writer still holding the old version loses, and changes nothing.
      const stale = cancel(call, call.callerId, call.callerDeviceId, 2);
      expect(await one.replace(call, stale.next, TTL_MS)).toBe('conflict');
      expect((await two.get(call.id))!.status).toBe('active');
      expect(await one.replace(ringingCall(), stale.next, TTL_MS)).toBe('gone');
    });

    it('gives exactly one winner when many instances race on one call', async () => {
      const call = ringingCall();
      await one.create(call, TTL_MS);
      const results = await Promise.all(
        call.ringing[0].deviceIds.flatMap((deviceId, i) =>
          Array.from({ length: 5 }, (_, j) =>
            ((i + j) % 2 ? one : two).replace(
              call,
              accept(call, call.ringing[0].userId, deviceId, j, 8).next,
              TTL_MS,
            ),
          ),
        ),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'conflict')).toHaveLength(9);
    });

    it('a user in another call cannot join: busy, and nothing changes', async () => {
      const calleeId = randomUUID();
      const elsewhere = ringingCall(calleeId);
      await one.create(elsewhere, TTL_MS);
      const call = ringingCall(randomUUID(), [calleeId]);
      await two.create(call, TTL_MS);
      const answered = accept(call, calleeId, call.ringing[0].deviceIds[0], 1, 8).next;
      expect(await two.replace(call, answered, TTL_MS)).toBe('busy');
      expect(await one.get(call.id)).toEqual(call);
      expect(await one.currentCallOf(calleeId)).toBe(elsewhere.id);
    });

    it('an ended call releases every slot it held', async () => {
      const call = ringingCall();
      const calleeId = call.ringing[0].userId;
      await one.create(call, TTL_MS);
      const active = accept(call, calleeId, call.ringing[0].deviceIds[0], 1, 8).next;
      await one.replace(call, active, TTL_MS);
      const ended = { ...active, status: 'ended' as const, version: active.version + 1 };
      expect(await two.replace(active, ended, TTL_MS)).toBe('ok');
      expect(await one.currentCallOf(call.callerId)).toBeNull();
      expect(await one.currentCallOf(calleeId)).toBeNull();
      expect((await one.get(call.id))!.status).toBe('ended');
      // The caller is free for a new call.
      expect(await two.create(ringingCall(call.callerId), TTL_MS)).toBe(true);
    });

    it('forgets calls and slots after the expiry unless touched', async () => {
      const kept = ringingCall();
      const dropped = ringingCall();
      await one.create(kept, 300);
      await one.create(dropped, 300);
      await sleep(150);
      expect(await two.touch(kept.id, 400)).toBe(true);
      await sleep(250);
      expect(await one.get(dropped.id)).toBeNull();
      expect(await one.currentCallOf(dropped.callerId)).toBeNull();
      expect(await one.get(kept.id)).toEqual(kept);
      expect(await one.currentCallOf(kept.callerId)).toBe(kept.id);
      expect(await two.touch(dropped.id, 400)).toBe(false);
      await sleep(300);
      expect(await one.get(kept.id)).toBeNull();
    });
  });
}

/** The adapters to check: the in-memory one always, Redis when REDIS_URL is set. */
const adapters: Array<{ name: string; factory: () => Promise<CallStateStoreHarness> }> = [
  {
    name: 'memory',
    factory: () => {
      const store = new CallStateMemoryStore();
      return Promise.resolve({ stores: [store, store], close: async () => undefined });
    },
  },
];

const redisUrl = readProcessEnv('REDIS_URL');
if (redisUrl) {
  adapters.push({
    name: 'redis',
    factory: () => {
      const config = loadConfig({
        REDIS_URL: redisUrl,
        JWT_SECRET: 'contract-secret-contract-secret-contract-secret',
      });
      // Two connections, as two instances would have; a namespace of its own.
      const redis = new RedisConnections(config, new MetricsRegistry());
      const prefix = `parley:test:${randomUUID()}:calls:`;
      return Promise.resolve({
        stores: [
          new CallStateRedisStore(redis.create('calls-1'), prefix),
          new CallStateRedisStore(redis.create('calls-2'), prefix),
        ],
        close: async () => {
          const keys = await redis.client.keys(`${prefix}*`);
          if (keys.length) await redis.client.del(...keys);
          await redis.onApplicationShutdown();
        },
      });
    },
  });
}

for (const { name, factory } of adapters) callStateStoreContract(name, factory);
