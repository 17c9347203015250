import { randomUUID } from 'node:crypto';
import { loadConfig, readProcessEnv } from '../../src/common/config/app-config';
import { MetricsRegistry } from '../../src/common/metrics/metrics.registry';
import { eventually } from '../utils/wait';
import { RedisConnections } from '../../src/common/redis/redis.connections';
import { PresenceMemoryStore } from '../../src/modules/presence/adapters/memory/presence.memory.store';
import { PresenceRedisStore } from '../../src/modules/presence/adapters/redis/presence.redis.store';
import {
  PresenceStore,
  type ConnectionRef,
  type PresenceChange,
} from '../../src/modules/presence/ports/presence.store';

/** Instances stay alive this long without a heartbeat in these tests. */
const TTL_MS = 300;
const GRACE_MS = 1000;

/**
 * What an adapter under test provides: two views of one fresh backend, as two server
 * instances would have (the same object for the in-memory adapter, which serves one process).
 */
export interface PresenceStoreHarness {
  stores: [PresenceStore, PresenceStore];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects the change feed of a store. */
async function listen(store: PresenceStore) {
  const changes: PresenceChange[] = [];
  const stop = await store.subscribe((change) => changes.push(change));
  return { changes, stop };
}

/**
 * The behaviour every PresenceStore adapter must have. Times are passed explicitly, except
 * for instance liveness, which is real time (the Redis adapter uses expiring keys).
 */
export function presenceStoreContract(
  adapter: string,
  factory: () => Promise<PresenceStoreHarness>,
  /** Set when the adapter's backend is not configured: the suite is reported as skipped. */
  skipReason?: string,
): void {
  const suite = skipReason ? describe.skip : describe;
  suite(`PresenceStore contract: ${adapter}${skipReason ? ` (${skipReason})` : ''}`, () => {
    let harness: PresenceStoreHarness;
    let one: PresenceStore;
    let two: PresenceStore;
    let instanceA: string;
    let instanceB: string;

    beforeAll(async () => {
      harness = await factory();
      [one, two] = harness.stores;
    });
    afterAll(async () => {
      await harness.close();
    });
    beforeEach(async () => {
      instanceA = randomUUID();
      instanceB = randomUUID();
      const now = Date.now();
      await one.heartbeat(instanceA, now);
      await two.heartbeat(instanceB, now);
    });

    const ref = (instanceId: string, userId: string): ConnectionRef => ({
      instanceId,
      userId,
      deviceId: randomUUID(),
      connectionId: randomUUID(),
    });

    describe('connect and disconnect', () => {
      it('announces a user online with their first connection only, on any instance', async () => {
        const userId = randomUUID();
        const now = Date.now();
        expect(await one.connect(ref(instanceA, userId), now)).toBe(true);
        expect(await two.connect(ref(instanceB, userId), now + 1)).toBe(false);
        expect(await one.connect(ref(instanceA, userId), now + 2)).toBe(false);
        const states = await two.states([userId]);
        expect(states.get(userId)).toEqual({ online: true, version: expect.any(Number) });
        expect(states.get(userId)!.version).toBeGreaterThan(0);
      });

      it('announces exactly one online when connections race', async () => {
        const userId = randomUUID();
        const now = Date.now();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? one : two).connect(ref(i % 2 ? instanceA : instanceB, userId), now),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('knows which devices have a live connection, on any instance, until they go', async () => {
        const userId = randomUUID();
        const other = randomUUID();
        const phone = ref(instanceA, userId);
        const laptop = ref(instanceB, userId);
        const laptopTab = { ...ref(instanceA, userId), deviceId: laptop.deviceId };
        await one.connect(phone, Date.now());
        await two.connect(laptop, Date.now());
        await one.connect(laptopTab, Date.now());
        expect(await two.connectedDevices([userId, other])).toEqual(
          new Set([phone.deviceId, laptop.deviceId]),
        );
        await one.disconnect(phone, Date.now());
        await two.disconnect(laptop, Date.now());
        // The laptop still has its other tab.
        expect(await one.connectedDevices([userId])).toEqual(new Set([laptop.deviceId]));
        await one.disconnect(laptopTab, Date.now());
        expect(await two.connectedDevices([userId])).toEqual(new Set());
        expect(await two.connectedDevices([])).toEqual(new Set());
      });

      it('reports users never seen as offline with version 0', async () => {
        const userId = randomUUID();
        expect(await one.states([userId])).toEqual(
          new Map([[userId, { online: false, version: 0 }]]),
        );
        expect(await one.states([])).toEqual(new Map());
      });

      it('says when the last connection of a user goes, wherever it was', async () => {
        const userId = randomUUID();
        const onA = ref(instanceA, userId);
        const onB = ref(instanceB, userId);
        const now = Date.now();
        await one.connect(onA, now);
        await two.connect(onB, now);
        expect(await one.disconnect(onA, now + 10)).toBe(false);
        expect(await two.disconnect(onB, now + 20)).toBe(true);
        // Gone, but still announced online until the grace period is settled.
        expect((await one.states([userId])).get(userId)!.online).toBe(true);
      });

      it('ignores a disconnect of an unknown or already removed connection', async () => {
        const userId = randomUUID();
        const connection = ref(instanceA, userId);
        expect(await one.disconnect(connection, Date.now())).toBe(false);
        await one.connect(connection, Date.now());
        expect(await one.disconnect(connection, Date.now())).toBe(true);
        expect(await one.disconnect(connection, Date.now())).toBe(false);
      });
    });

    describe('settle', () => {
      it('declares a user offline once the grace period has passed, with lastSeen = when they left', async () => {
        const userId = randomUUID();
        const connection = ref(instanceA, userId);
        const t0 = Date.now();
        await one.connect(connection, t0);
        const before = (await one.states([userId])).get(userId)!.version;
        await one.disconnect(connection, t0 + 100);

        const early = await two.settle(t0 + 100 + GRACE_MS - 1, GRACE_MS);
        expect(early.filter((x) => x.userId === userId)).toEqual([]);
        expect((await one.states([userId])).get(userId)!.online).toBe(true);

        const transitions = await two.settle(t0 + 100 + GRACE_MS, GRACE_MS);
        expect(transitions.filter((x) => x.userId === userId)).toEqual([
          { userId, lastSeen: new Date(t0 + 100), version: expect.any(Number) },
        ]);
        const state = (await one.states([userId])).get(userId)!;
        expect(state.online).toBe(false);
        expect(state.version).toBeGreaterThan(before);
        expect(transitions.find((x) => x.userId === userId)!.version).toBe(state.version);
        expect(await one.settle(t0 + 10 * GRACE_MS, GRACE_MS, [userId])).toEqual([]);
      });

      it('hands each transition to exactly one caller when instances settle at once', async () => {
        const users: string[] = Array.from({ length: 20 }, () => randomUUID());
        const t0 = Date.now();
        for (const userId of users) {
          const connection = ref(instanceA, userId);
          await one.connect(connection, t0);
          await one.disconnect(connection, t0);
        }
        const results = await Promise.all([
          one.settle(t0 + GRACE_MS, GRACE_MS),
          two.settle(t0 + GRACE_MS, GRACE_MS),
          one.settle(t0 + GRACE_MS, GRACE_MS, users),
          two.settle(t0 + GRACE_MS, GRACE_MS, users),
        ]);
        const settled = results.flat().filter((x) => users.includes(x.userId));
        expect(settled.map((x) => x.userId).sort()).toEqual([...users].sort());
      });

      it('settles every user who is due in one call, however many there are', async () => {
        const users: string[] = Array.from({ length: 1200 }, () => randomUUID());
        const t0 = Date.now();
        await Promise.all(
          users.map(async (userId) => {
            const connection = ref(instanceA, userId);
            await one.connect(connection, t0);
            await one.disconnect(connection, t0);
          }),
        );
        // Some of them came back: they are examined, and skipped.
        await Promise.all(users.slice(0, 300).map((id) => one.connect(ref(instanceB, id), t0)));
        const settled = (await two.settle(t0 + GRACE_MS, GRACE_MS)).filter((x) =>
          users.includes(x.userId),
        );
        expect(settled.map((x) => x.userId).sort()).toEqual(users.slice(300).sort());
      });

      it('does nothing for a user who reconnected within the grace period', async () => {
        const userId = randomUUID();
        const t0 = Date.now();
        const first = ref(instanceA, userId);
        await one.connect(first, t0);
        await one.disconnect(first, t0 + 10);
        expect(await two.connect(ref(instanceB, userId), t0 + 20)).toBe(false);
        expect(await one.settle(t0 + 10 * GRACE_MS, GRACE_MS, [userId])).toEqual([]);
        expect(await one.settle(t0 + 10 * GRACE_MS, GRACE_MS)).not.toContainEqual(
          expect.objectContaining({ userId }),
        );
        expect((await one.states([userId])).get(userId)!.online).toBe(true);
      });

      it('settles only the given users when asked for some', async () => {
        const [mine, other] = [randomUUID(), randomUUID()];
        const t0 = Date.now();
        for (const userId of [mine, other]) {
          const connection = ref(instanceA, userId);
          await one.connect(connection, t0);
          await one.disconnect(connection, t0);
        }
        const transitions = await one.settle(t0 + GRACE_MS, GRACE_MS, [mine]);
        expect(transitions.map((x) => x.userId)).toEqual([mine]);
        expect((await one.states([other])).get(other)!.online).toBe(true);
        expect(await one.settle(t0 + GRACE_MS, GRACE_MS, [])).toEqual([]);
      });

      it('comes online again after going offline, with growing versions', async () => {
        const userId = randomUUID();
        const t0 = Date.now();
        const versions: number[] = [];
        for (let round = 0; round < 3; round++) {
          const connection = ref(instanceA, userId);
          const at = t0 + round * 10 * GRACE_MS;
          expect(await one.connect(connection, at)).toBe(true);
          versions.push((await one.states([userId])).get(userId)!.version);
          await one.disconnect(connection, at + 1);
          const [transition] = await one.settle(at + 1 + GRACE_MS, GRACE_MS, [userId]);
          versions.push(transition.version);
        }
        expect([...versions].sort((a, b) => a - b)).toEqual(versions);
        expect(new Set(versions).size).toBe(versions.length);
      });
    });

    describe('instances', () => {
      it('knows an instance after its first heartbeat', async () => {
        const instanceId = randomUUID();
        expect(await one.heartbeat(instanceId, Date.now())).toBe(false);
        expect(await two.heartbeat(instanceId, Date.now())).toBe(true);
        await one.removeInstance(instanceId, Date.now());
        expect(await one.heartbeat(instanceId, Date.now())).toBe(false);
      });

      it('reaps the connections of an instance that stopped beating, as of its last heartbeat', async () => {
        const onlyThere = randomUUID();
        const alsoElsewhere = randomUUID();
        const dead = randomUUID();
        const lastBeat = Date.now();
        await one.heartbeat(dead, lastBeat);
        await one.connect(ref(dead, onlyThere), lastBeat);
        await one.connect(ref(dead, alsoElsewhere), lastBeat);
        await two.connect(ref(instanceB, alsoElsewhere), lastBeat);

        await sleep(TTL_MS + 100);
        await two.heartbeat(instanceB, Date.now()); // B is alive, only `dead` stopped
        const reaped = await Promise.all([
          one.reapDeadInstances(Date.now()),
          two.reapDeadInstances(Date.now()),
        ]);
        // Each adapter may also reap instances of earlier tests; `dead` is reaped once.
        expect(reaped[0] + reaped[1]).toBeGreaterThanOrEqual(1);
        expect(await one.heartbeat(dead, Date.now())).toBe(false);
        await one.removeInstance(dead, Date.now());

        const transitions = await two.settle(lastBeat + GRACE_MS, GRACE_MS, [
          onlyThere,
          alsoElsewhere,
        ]);
        expect(transitions).toEqual([
          { userId: onlyThere, lastSeen: new Date(lastBeat), version: expect.any(Number) },
        ]);
        expect(await two.connectedDevices([onlyThere])).toEqual(new Set());
        const states = await one.states([onlyThere, alsoElsewhere]);
        expect(states.get(onlyThere)!.online).toBe(false);
        expect(states.get(alsoElsewhere)!.online).toBe(true);
      });

      it('keeps the connections of instances that keep beating', async () => {
        const userId = randomUUID();
        const alive = randomUUID();
        await one.heartbeat(alive, Date.now());
        await one.connect(ref(alive, userId), Date.now());
        for (let i = 0; i < 3; i++) {
          await sleep(TTL_MS / 2);
          await one.heartbeat(alive, Date.now());
          await two.reapDeadInstances(Date.now());
        }
        expect(await one.heartbeat(alive, Date.now())).toBe(true);
        expect(await one.settle(Date.now() + 10 * GRACE_MS, GRACE_MS, [userId])).toEqual([]);
        await one.removeInstance(alive, Date.now());
      });

      it('on removal returns the users left with no connection, who stay online until settled', async () => {
        const [leaving, staying] = [randomUUID(), randomUUID()];
        const t0 = Date.now();
        const leavingRef = ref(instanceA, leaving);
        await one.connect(leavingRef, t0);
        await one.connect(ref(instanceA, staying), t0);
        await two.connect(ref(instanceB, staying), t0);

        expect((await one.removeInstance(instanceA, t0 + 50)).sort()).toEqual([leaving]);
        expect((await two.states([leaving])).get(leaving)!.online).toBe(true);
        expect(await one.disconnect(leavingRef, t0 + 60)).toBe(false);

        const transitions = await two.settle(t0 + 50 + GRACE_MS, GRACE_MS, [leaving, staying]);
        expect(transitions).toEqual([
          { userId: leaving, lastSeen: new Date(t0 + 50), version: expect.any(Number) },
        ]);
      });
    });

    describe('change feed', () => {
      it('publishes every announced change to every listener, the announcer included', async () => {
        const first = await listen(one);
        const second = await listen(two);
        try {
          const userId = randomUUID();
          const t0 = Date.now();
          await one.connect(ref(instanceA, userId), t0);
          await two.connect(ref(instanceB, userId), t0); // not a change: no event
          await one.announceRefresh(userId);

          const expected: PresenceChange[] = [
            { kind: 'online', userId, version: expect.any(Number) },
            { kind: 'refresh', userId },
          ];
          for (const feed of [first, second]) {
            await eventually(() =>
              expect(feed.changes.filter((c) => c.userId === userId)).toEqual(expected),
            );
          }
        } finally {
          await first.stop();
          await second.stop();
        }
      });

      it('publishes offline transitions with their lastSeen and version, once', async () => {
        const feed = await listen(two);
        try {
          const userId = randomUUID();
          const connection = ref(instanceA, userId);
          const t0 = Date.now();
          await one.connect(connection, t0);
          await one.disconnect(connection, t0 + 5);
          const [transition] = await one.settle(t0 + 5 + GRACE_MS, GRACE_MS, [userId]);
          await one.settle(t0 + 5 + GRACE_MS, GRACE_MS, [userId]);
          await eventually(() =>
            expect(feed.changes.filter((c) => c.userId === userId)).toEqual([
              { kind: 'online', userId, version: expect.any(Number) },
              { kind: 'offline', userId, version: transition.version, lastSeen: new Date(t0 + 5) },
            ]),
          );
          await sleep(50);
          expect(feed.changes.filter((c) => c.userId === userId)).toHaveLength(2);
        } finally {
          await feed.stop();
        }
      });

      it('stops delivering once the listener is stopped', async () => {
        const feed = await listen(one);
        await feed.stop();
        const userId = randomUUID();
        await two.connect(ref(instanceB, userId), Date.now());
        await two.announceRefresh(userId);
        await sleep(100);
        expect(feed.changes).toEqual([]);
      });
    });
  });
}

/** The adapters to check: the in-memory one always, Redis when REDIS_URL is set. */
const adapters: Array<{
  name: string;
  factory: () => Promise<PresenceStoreHarness>;
  skipReason?: string;
}> = [
  {
    name: 'memory',
    factory: async () => {
      const store = new PresenceMemoryStore({ ttlMs: TTL_MS });
      return { stores: [store, store], close: async () => undefined };
    },
  },
];

const redisUrl = readProcessEnv('REDIS_URL');
adapters.push({
  name: 'redis',
  skipReason: redisUrl ? undefined : 'needs REDIS_URL',
  factory: async () => {
    const config = loadConfig({
      REDIS_URL: redisUrl!,
      JWT_SECRET: 'contract-secret-contract-secret-contract-secret',
    });
    const redis = new RedisConnections(config, new MetricsRegistry());
    // A namespace of its own, so that servers sharing this Redis do not interfere.
    const keyPrefix = `parley:test:${randomUUID()}:presence:`;
    const options = { ttlMs: TTL_MS, keyPrefix };
    return {
      stores: [new PresenceRedisStore(redis, options), new PresenceRedisStore(redis, options)],
      close: async () => {
        const keys = await redis.client.keys(`${keyPrefix}*`);
        if (keys.length) await redis.client.del(...keys);
        await redis.onApplicationShutdown();
      },
    };
  },
});

for (const { name, factory, skipReason } of adapters)
  presenceStoreContract(name, factory, skipReason);
