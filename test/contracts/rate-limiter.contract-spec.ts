import { randomUUID } from 'node:crypto';
import { loadConfig, readProcessEnv } from '../../src/common/config/app-config';
import { RateLimiter } from '../../src/common/rate-limit/rate-limiter';
import { MemoryRateLimiter } from '../../src/common/rate-limit/rate-limiter.memory';
import { RedisRateLimiter } from '../../src/common/rate-limit/rate-limiter.redis';
import { MetricsRegistry } from '../../src/common/metrics/metrics.registry';
import { RedisConnections } from '../../src/common/redis/redis.connections';

export interface RateLimiterHarness {
  limiter: RateLimiter;
  close(): Promise<void>;
}

/** The behaviour every RateLimiter adapter must have. */
export function rateLimiterContract(
  adapter: string,
  factory: () => Promise<RateLimiterHarness>,
): void {
  describe(`RateLimiter contract: ${adapter}`, () => {
    let harness: RateLimiterHarness;
    let limiter: RateLimiter;
    const key = () => `contract:${randomUUID()}`;

    beforeAll(async () => {
      harness = await factory();
      limiter = harness.limiter;
    });
    afterAll(async () => {
      await harness.close();
    });

    it('accepts up to the limit in the window, then refuses with the wait', async () => {
      const k = key();
      for (let i = 0; i < 3; i++) expect((await limiter.consume(k, 3, 60_000)).allowed).toBe(true);
      const refused = await limiter.consume(k, 3, 60_000);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(50_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect((await limiter.consume(key(), 3, 60_000)).allowed).toBe(true);
    });

    it('accepts exactly the limit of concurrent consumers', async () => {
      const k = key();
      const decisions = await Promise.all(
        Array.from({ length: 30 }, () => limiter.consume(k, 7, 60_000)),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
    });

    it('forgets events older than the window', async () => {
      const k = key();
      expect((await limiter.consume(k, 1, 100)).allowed).toBe(true);
      expect((await limiter.consume(k, 1, 100)).allowed).toBe(false);
      await new Promise((r) => setTimeout(r, 150));
      expect((await limiter.consume(k, 1, 100)).allowed).toBe(true);
    });

    it('peek tells whether one more would pass, without counting it', async () => {
      const k = key();
      expect(await limiter.peek(k, 2, 60_000)).toEqual({ allowed: true, retryAfterMs: 0 });
      await limiter.consume(k, 2, 60_000);
      for (let i = 0; i < 5; i++) expect((await limiter.peek(k, 2, 60_000)).allowed).toBe(true);
      await limiter.consume(k, 2, 60_000);
      const full = await limiter.peek(k, 2, 60_000);
      expect(full.allowed).toBe(false);
      expect(full.retryAfterMs).toBeGreaterThan(50_000);
      expect((await limiter.consume(k, 2, 60_000)).allowed).toBe(false);
    });

    it('a refund gives back one accepted event, and is harmless on an unknown key', async () => {
      const k = key();
      await limiter.consume(k, 2, 60_000);
      await limiter.consume(k, 2, 60_000);
      expect((await limiter.consume(k, 2, 60_000)).allowed).toBe(false);
      await limiter.refund(k);
      expect((await limiter.consume(k, 2, 60_000)).allowed).toBe(true);
      expect((await limiter.consume(k, 2, 60_000)).allowed).toBe(false);
      await expect(limiter.refund(key())).resolves.toBeUndefined();
    });
  });
}

const adapters: Array<{ name: string; factory: () => Promise<RateLimiterHarness> }> = [
  {
    name: 'memory',
    factory: async () => {
      const limiter = new MemoryRateLimiter();
      return { limiter, close: async () => limiter.onModuleDestroy() };
    },
  },
];

const redisUrl = readProcessEnv('REDIS_URL');
if (redisUrl) {
  adapters.push({
    name: 'redis',
    factory: async () => {
      const keyPrefix = `parley-test-${randomUUID().slice(0, 8)}`;
      const config = loadConfig({
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: keyPrefix,
        JWT_SECRET: 'contract-secret-contract-secret-contract-secret',
      });
      const redis = new RedisConnections(config, new MetricsRegistry());
      return {
        limiter: new RedisRateLimiter(redis),
        close: async () => {
          const keys = await redis.client.keys(`${keyPrefix}:*`);
          if (keys.length) await redis.client.del(...keys);
          await redis.onApplicationShutdown();
        },
      };
    },
  });
}

for (const { name, factory } of adapters) rateLimiterContract(name, factory);
