import { MemoryRateLimiter } from './rate-limiter.memory';

describe('MemoryRateLimiter.consumeDistinct', () => {
  let limiter: MemoryRateLimiter;
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    limiter = new MemoryRateLimiter();
  });
  afterEach(() => {
    limiter.onModuleDestroy();
    jest.useRealTimers();
  });

  it('counts distinct members: a member already counted passes again, a new one beyond the limit does not', async () => {
    expect((await limiter.consumeDistinct('k', 'a', 2, 60_000)).allowed).toBe(true);
    expect((await limiter.consumeDistinct('k', 'b', 2, 60_000)).allowed).toBe(true);
    expect((await limiter.consumeDistinct('k', 'a', 2, 60_000)).allowed).toBe(true);
    jest.advanceTimersByTime(10_000);
    const refused = await limiter.consumeDistinct('k', 'c', 2, 60_000);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 50_000 });
    // Other keys are counted apart.
    expect((await limiter.consumeDistinct('other', 'c', 2, 60_000)).allowed).toBe(true);
  });

  it('lets a new member in once the oldest leaves the window', async () => {
    await limiter.consumeDistinct('k', 'a', 1, 60_000);
    jest.advanceTimersByTime(59_999);
    expect((await limiter.consumeDistinct('k', 'b', 1, 60_000)).allowed).toBe(false);
    jest.advanceTimersByTime(1);
    expect((await limiter.consumeDistinct('k', 'b', 1, 60_000)).allowed).toBe(true);
  });
});
