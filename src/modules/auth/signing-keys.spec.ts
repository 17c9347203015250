import { Logger } from '@nestjs/common';
import { loadConfig } from '../../common/config/app-config';
import { SigningKeyRepository, type SigningKey } from './ports/signing-key.repository';
import { SIGNING_KEYS_REFRESH_MS, SigningKeys } from './signing-keys';

const DAY = 86_400_000;

/** Storage as the contract suite (test/contracts) pins it down, in memory, with a clock. */
class KeysInMemory extends SigningKeyRepository {
  keys: SigningKey[] = [];
  named = new Map<string, string>();
  now = new Date('2026-01-01T00:00:00Z');

  async list(): Promise<SigningKey[]> {
    return [...this.keys].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }
  async addUnlessNewerExists(key: { kid: string; secret: string }, cutoff: Date) {
    if (this.keys.some((k) => k.createdAt > cutoff)) return false;
    this.keys.push({ ...key, createdAt: new Date(this.now) });
    return true;
  }
  async deleteCreatedBefore(before: Date): Promise<number> {
    const [newest] = await this.list();
    const keep = this.keys.filter((k) => k === newest || k.createdAt >= before);
    const removed = this.keys.length - keep.length;
    this.keys = keep;
    return removed;
  }
  async namedSecret(name: string, candidate: string): Promise<string> {
    if (!this.named.has(name)) this.named.set(name, candidate);
    return this.named.get(name)!;
  }
}

function setUp(env: Record<string, string> = {}) {
  const repo = new KeysInMemory();
  const config = loadConfig({ DATA_DIR: '/nonexistent-parley-test', ...env });
  return { repo, keys: new SigningKeys(repo, config) };
}

describe('SigningKeys', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.useRealTimers());

  it('makes one key on first start and signs with it', async () => {
    const { repo, keys } = setUp();
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    expect(repo.keys).toHaveLength(1);
    expect(keys.current()).toEqual({ kid: repo.keys[0].kid, secret: repo.keys[0].secret });
    expect(keys.otpSecret).toBe(repo.named.get('otp-hmac'));
  });

  it('a second instance on the same storage uses the same key', async () => {
    const { repo, keys } = setUp();
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    const other = new SigningKeys(repo, loadConfig({ DATA_DIR: '/nonexistent-parley-test' }));
    await other.onModuleInit();
    other.onApplicationShutdown();
    expect(repo.keys).toHaveLength(1);
    expect(other.current()).toEqual(keys.current());
    expect(other.otpSecret).toBe(keys.otpSecret);
  });

  it('rotates after JWT_ROTATE_DAYS; the old key verifies until its tokens expire', async () => {
    const { repo, keys } = setUp({ JWT_ROTATE_DAYS: '7', JWT_ACCESS_TTL_SEC: '900' });
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    const first = keys.current();

    repo.now = new Date(repo.now.getTime() + 6 * DAY);
    await keys.refresh(repo.now);
    expect(keys.current()).toEqual(first);

    repo.now = new Date(repo.now.getTime() + 1 * DAY + 1);
    await keys.refresh(repo.now);
    const second = keys.current();
    expect(second.kid).not.toBe(first.kid);
    expect(await keys.secretFor(first.kid)).toBe(first.secret);

    // Past the access TTL and the refresh slack after the successor appeared: gone.
    repo.now = new Date(repo.now.getTime() + 900_000 + 2 * SIGNING_KEYS_REFRESH_MS + 1000);
    await keys.refresh(repo.now);
    expect(repo.keys.map((k) => k.kid)).toEqual([second.kid]);
    jest.useFakeTimers({ now: Date.now() + 60_000 });
    expect(await keys.secretFor(first.kid)).toBeUndefined();
  });

  it('with rotation off (0) keeps one key forever', async () => {
    const { repo, keys } = setUp({ JWT_ROTATE_DAYS: '0' });
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    repo.now = new Date(repo.now.getTime() + 3650 * DAY);
    await keys.refresh(repo.now);
    expect(repo.keys).toHaveLength(1);
  });

  it('an unknown kid reloads from storage, so a key another instance made verifies', async () => {
    const { repo, keys } = setUp();
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    repo.keys.push({ kid: 'made-elsewhere', secret: 's3cret', createdAt: new Date(repo.now) });
    jest.useFakeTimers({ now: Date.now() + 60_000 });
    expect(await keys.secretFor('made-elsewhere')).toBe('s3cret');
  });

  it('with JWT_SECRET: that secret is the one key, storage is not touched', async () => {
    const secret = 'x'.repeat(40);
    const { repo, keys } = setUp({ JWT_SECRET: secret });
    await keys.onModuleInit();
    expect(repo.keys).toEqual([]);
    expect(keys.current().secret).toBe(secret);
    expect(keys.current().kid).not.toContain(secret);
    expect(await keys.secretFor(undefined)).toBe(secret);
    expect(await keys.secretFor('something-else')).toBeUndefined();
  });

  it('without JWT_SECRET a token with no kid verifies with nothing', async () => {
    const { keys } = setUp();
    await keys.onModuleInit();
    keys.onApplicationShutdown();
    expect(await keys.secretFor(undefined)).toBeUndefined();
  });
});
