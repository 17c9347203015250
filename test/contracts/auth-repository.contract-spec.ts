import { uuidv7 } from 'uuidv7';
import type { Platform } from '../../src/modules/auth/domain/device';
import { AuthRepository } from '../../src/modules/auth/ports/auth.repository';
import { UserRepository } from '../../src/modules/users/ports/user.repository';
import { uniquePhone } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/**
 * What an adapter under test provides: a repository over empty storage, a way to make a
 * user that devices may belong to, and a way to release it all.
 */
export interface AuthRepositoryHarness {
  repository: AuthRepository;
  newUserId(): Promise<string>;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inMinutes = (n: number) => new Date(Date.now() + n * MINUTE);
/**
 * Expiry times far in the past, a different year per test, so that one test's clean-up
 * counts only the rows that test made.
 */
const longAgo = (year: number, month: number, day = 1) => new Date(Date.UTC(year, month - 1, day));

let tokenCounter = 0;
const newHash = () => `hash-${Date.now().toString(36)}-${(tokenCounter += 1)}-${Math.random()}`;

/**
 * The behaviour every AuthRepository adapter must have. Run it against each adapter with a
 * factory that returns a fresh repository.
 */
export function authRepositoryContract(
  adapter: string,
  factory: () => Promise<AuthRepositoryHarness>,
): void {
  describe(`AuthRepository contract: ${adapter}`, () => {
    let harness: AuthRepositoryHarness;
    let repo: AuthRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    const newDevice = async (userId?: string, name = 'Phone', platform: Platform = 'android') =>
      repo.createDevice({
        id: uuidv7(),
        userId: userId ?? (await harness.newUserId()),
        name,
        platform,
      });

    const newOtp = async (phone: string, expiresAt = inMinutes(5), codeHash = newHash()) => {
      const id = uuidv7();
      await repo.createOtp(id, phone, codeHash, expiresAt);
      return id;
    };

    describe('OTP codes', () => {
      it('stores a code and finds it as the latest live one', async () => {
        const phone = uniquePhone();
        expect(await repo.latestLiveOtp(phone, new Date())).toBeNull();
        const expiresAt = inMinutes(5);
        const id = uuidv7();
        await repo.createOtp(id, phone, 'the-hash', expiresAt);
        const live = await repo.latestLiveOtp(phone, new Date());
        expect(live).toEqual({
          id,
          codeHash: 'the-hash',
          attempts: 0,
          expiresAt: expect.any(Date),
          createdAt: expect.any(Date),
        });
        expect(live!.expiresAt.getTime()).toBe(expiresAt.getTime());
        // When it was requested: a fresh code is one issued after a given time.
        expect(Math.abs(live!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      });

      it('keeps phones apart', async () => {
        const phone = uniquePhone();
        await newOtp(phone);
        expect(await repo.latestLiveOtp(uniquePhone(), new Date())).toBeNull();
      });

      it('the newest code wins over older live ones', async () => {
        const phone = uniquePhone();
        await newOtp(phone);
        await sleep(5);
        const newest = await newOtp(phone);
        expect((await repo.latestLiveOtp(phone, new Date()))!.id).toBe(newest);
      });

      it('judges expiry by the given time', async () => {
        const phone = uniquePhone();
        const expiresAt = inMinutes(5);
        const id = await newOtp(phone, expiresAt);
        expect((await repo.latestLiveOtp(phone, new Date(expiresAt.getTime() - 1)))!.id).toBe(id);
        expect(await repo.latestLiveOtp(phone, expiresAt)).toBeNull();
        expect(await repo.latestLiveOtp(phone, new Date(expiresAt.getTime() + 1))).toBeNull();
      });

      it('skips a newer code that has expired or been consumed, falling back to an older live one', async () => {
        const phone = uniquePhone();
        const older = await newOtp(phone, inMinutes(10));
        await sleep(5);
        await newOtp(phone, new Date(Date.now() - MINUTE));
        expect((await repo.latestLiveOtp(phone, new Date()))!.id).toBe(older);

        await sleep(5);
        const consumed = await newOtp(phone, inMinutes(10));
        expect((await repo.latestLiveOtp(phone, new Date()))!.id).toBe(consumed);
        expect(await repo.consumeOtp(consumed)).toBe(true);
        expect((await repo.latestLiveOtp(phone, new Date()))!.id).toBe(older);
      });

      it('claims tries on the newest live code up to the bound, then reports it exhausted', async () => {
        const phone = uniquePhone();
        const expiresAt = inMinutes(5);
        const id = await newOtp(phone, expiresAt, 'h');
        for (let i = 1; i <= 3; i++) {
          const claim = await repo.claimOtpAttempt(phone, new Date(), 3);
          expect(claim).toEqual({
            status: 'claimed',
            otp: {
              id,
              codeHash: 'h',
              attempts: i,
              expiresAt: expect.any(Date),
              createdAt: expect.any(Date),
            },
          });
        }
        const dead = await repo.claimOtpAttempt(phone, new Date(), 3);
        expect(dead).toEqual({ status: 'exhausted', expiresAt: expect.any(Date) });
        expect(dead.status === 'exhausted' && dead.expiresAt.getTime()).toBe(expiresAt.getTime());
        expect((await repo.latestLiveOtp(phone, new Date()))!.attempts).toBe(3);
      });

      it('grants at most the bound of concurrent claims', async () => {
        const phone = uniquePhone();
        await newOtp(phone);
        const claims = await Promise.all(
          Array.from({ length: 40 }, () => repo.claimOtpAttempt(phone, new Date(), 5)),
        );
        expect(claims.filter((c) => c.status === 'claimed')).toHaveLength(5);
        expect(claims.filter((c) => c.status === 'exhausted')).toHaveLength(35);
      });

      it('claims without bound when the bound is 0, per code, and reports a phone without a live code', async () => {
        const phone = uniquePhone();
        expect(await repo.claimOtpAttempt(phone, new Date(), 5)).toEqual({ status: 'none' });
        const first = await newOtp(phone);
        for (let i = 0; i < 7; i++) await repo.claimOtpAttempt(phone, new Date(), 0);
        expect((await repo.latestLiveOtp(phone, new Date()))!.attempts).toBe(7);
        await sleep(5);
        const second = await newOtp(phone);
        const claim = await repo.claimOtpAttempt(phone, new Date(), 5);
        expect(claim.status === 'claimed' && claim.otp.id).toBe(second);
        expect(claim.status === 'claimed' && claim.otp.attempts).toBe(1);
        expect(second).not.toBe(first);
        await repo.consumeOtp(second);
        expect((await repo.claimOtpAttempt(phone, new Date(), 5)).status).toBe('exhausted');
        expect(await repo.claimOtpAttempt(uniquePhone(), new Date(), 0)).toEqual({
          status: 'none',
        });
      });

      it('consumes a code only once', async () => {
        const phone = uniquePhone();
        const id = await newOtp(phone);
        expect(await repo.consumeOtp(id)).toBe(true);
        expect(await repo.consumeOtp(id)).toBe(false);
        expect(await repo.latestLiveOtp(phone, new Date())).toBeNull();
      });

      it('lets exactly one of several concurrent consumers win', async () => {
        const id = await newOtp(uniquePhone());
        const results = await Promise.all(Array.from({ length: 5 }, () => repo.consumeOtp(id)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('does not consume an unknown code', async () => {
        expect(await repo.consumeOtp(uuidv7())).toBe(false);
      });
    });

    describe('deleteOtpsExpiredBefore', () => {
      it('deletes the codes that expired before the time, keeps the rest, and counts', async () => {
        const phone = uniquePhone();
        await newOtp(phone, longAgo(1971, 1));
        await newOtp(phone, longAgo(1971, 2));
        const atTheLimit = await newOtp(phone, longAgo(1971, 3));
        await sleep(5);
        const later = await newOtp(phone, longAgo(1971, 4));
        expect(await repo.deleteOtpsExpiredBefore(longAgo(1971, 3))).toBe(2);
        expect(await repo.deleteOtpsExpiredBefore(longAgo(1971, 3))).toBe(0);
        expect((await repo.latestLiveOtp(phone, longAgo(1971, 1)))!.id).toBe(later);

        expect(await repo.deleteOtpsExpiredBefore(longAgo(1971, 3, 2))).toBe(1);
        await repo.consumeOtp(later);
        expect(await repo.consumeOtp(atTheLimit)).toBe(false);
      });
    });

    describe('devices', () => {
      it('creates a device and finds it', async () => {
        const userId = await harness.newUserId();
        const id = uuidv7();
        const before = Date.now();
        const device = await repo.createDevice({ id, userId, name: 'Pixel', platform: 'android' });
        expect(device).toEqual({
          id,
          userId,
          name: 'Pixel',
          platform: 'android',
          createdAt: expect.any(Date),
          lastActiveAt: expect.any(Date),
          revokedAt: null,
        });
        expect(Math.abs(device.createdAt.getTime() - before)).toBeLessThan(MINUTE);
        expect(await repo.findDevice(id)).toEqual(device);
        expect(await repo.findDevice(uuidv7())).toBeNull();
      });

      it('stores every platform and an empty name', async () => {
        const userId = await harness.newUserId();
        for (const platform of ['ios', 'android', 'web', 'desktop'] as const) {
          const device = await newDevice(userId, '', platform);
          expect(await repo.findDevice(device.id)).toMatchObject({ name: '', platform });
        }
      });

      it('lists the live devices of one user only', async () => {
        const userId = await harness.newUserId();
        const a = await newDevice(userId, 'A');
        const b = await newDevice(userId, 'B', 'desktop');
        const otherUsers = await newDevice(undefined, 'Other');
        const listed = await repo.listDevices(userId);
        expect(listed.map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
        expect(listed.find((d) => d.id === b.id)).toEqual(b);
        expect((await repo.listDevices(otherUsers.userId)).map((d) => d.id)).toEqual([
          otherUsers.id,
        ]);
        expect(await repo.listDevices(await harness.newUserId())).toEqual([]);
      });

      it('revokes a device once: true the first time, false after', async () => {
        const userId = await harness.newUserId();
        const keep = await newDevice(userId, 'Keep');
        const gone = await newDevice(userId, 'Gone');
        const before = Date.now();
        expect(await repo.revokeDevice(gone.id, 'logout')).toBe(true);
        expect(await repo.revokeDevice(gone.id, 'logout')).toBe(false);
        expect(await repo.revokeDevice(gone.id, 'token_reuse')).toBe(false);

        const found = await repo.findDevice(gone.id);
        expect(found).not.toBeNull();
        expect(found!.revokedAt).toBeInstanceOf(Date);
        expect(Math.abs(found!.revokedAt!.getTime() - before)).toBeLessThan(MINUTE);
        expect((await repo.listDevices(userId)).map((d) => d.id)).toEqual([keep.id]);
        expect((await repo.findDevice(keep.id))!.revokedAt).toBeNull();
      });

      it('devicesOf lists every device of the users, revoked ones marked inactive', async () => {
        const userId = await harness.newUserId();
        const live = await newDevice(userId, 'Live');
        const gone = await newDevice(userId, 'Gone');
        const other = await newDevice(undefined, 'Other');
        await newDevice(undefined, 'Not asked for');
        await repo.revokeDevice(gone.id, 'device_removed');
        const found = await repo.devicesOf([userId, other.userId]);
        const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
        expect(found.sort(byId)).toEqual(
          [
            { id: live.id, userId, active: true },
            { id: gone.id, userId, active: false },
            { id: other.id, userId: other.userId, active: true },
          ].sort(byId),
        );
        expect(await repo.devicesOf([])).toEqual([]);
      });

      it('does not revoke an unknown device', async () => {
        expect(await repo.revokeDevice(uuidv7(), 'device_removed')).toBe(false);
      });

      it('touchDevice records the last activity time', async () => {
        const device = await newDevice();
        const at = new Date('2030-05-06T07:08:09.123Z');
        await repo.touchDevice(device.id, at);
        const found = await repo.findDevice(device.id);
        expect(found!.lastActiveAt.getTime()).toBe(at.getTime());
        expect(found!.createdAt.getTime()).toBe(device.createdAt.getTime());
        await expect(repo.touchDevice(uuidv7(), at)).resolves.toBeUndefined();
      });
    });

    describe('refresh tokens', () => {
      const storedToken = async (deviceId?: string, expiresAt = inMinutes(60)) => {
        const device = deviceId ?? (await newDevice()).id;
        const hash = newHash();
        await repo.storeRefreshToken(hash, device, expiresAt);
        return { hash, deviceId: device };
      };

      it('rotates a live token into a new one that rotates in turn', async () => {
        const { hash, deviceId } = await storedToken();
        const second = newHash();
        expect(await repo.rotateRefreshToken(hash, second, inMinutes(60))).toEqual({
          status: 'rotated',
          deviceId,
        });
        const third = newHash();
        expect(await repo.rotateRefreshToken(second, third, inMinutes(60))).toEqual({
          status: 'rotated',
          deviceId,
        });
      });

      it("reports 'reused' with the device for a retired token", async () => {
        const { hash, deviceId } = await storedToken();
        const next = newHash();
        await repo.rotateRefreshToken(hash, next, inMinutes(60));
        expect(await repo.rotateRefreshToken(hash, newHash(), inMinutes(60))).toEqual({
          status: 'reused',
          deviceId,
        });
        // Reporting reuse does not store the token offered in exchange.
        const offered = newHash();
        await repo.rotateRefreshToken(hash, offered, inMinutes(60));
        expect(await repo.rotateRefreshToken(offered, newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
      });

      it("reports 'invalid' for an unknown token", async () => {
        expect(await repo.rotateRefreshToken(newHash(), newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
      });

      it("reports 'invalid' for an expired token", async () => {
        const { hash } = await storedToken(undefined, new Date(Date.now() - 1000));
        expect(await repo.rotateRefreshToken(hash, newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
      });

      it('stores the new token with the given expiry', async () => {
        const { hash } = await storedToken();
        const next = newHash();
        await repo.rotateRefreshToken(hash, next, new Date(Date.now() - 1000));
        expect(await repo.rotateRefreshToken(next, newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
      });

      it('lets exactly one of two concurrent rotations of the same token win', async () => {
        const { hash, deviceId } = await storedToken();
        const outcomes = await Promise.all([
          repo.rotateRefreshToken(hash, newHash(), inMinutes(60)),
          repo.rotateRefreshToken(hash, newHash(), inMinutes(60)),
        ]);
        expect(outcomes.map((o) => o.status).sort()).toEqual(['reused', 'rotated']);
        for (const outcome of outcomes) expect(outcome).toMatchObject({ deviceId });
      });

      it("revoking a device drops its tokens: they are 'invalid' afterwards, retired ones too", async () => {
        const device = await newDevice();
        const { hash: retired } = await storedToken(device.id);
        const current = newHash();
        await repo.rotateRefreshToken(retired, current, inMinutes(60));
        const other = await storedToken();

        expect(await repo.revokeDevice(device.id, 'token_reuse')).toBe(true);
        expect(await repo.rotateRefreshToken(current, newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
        expect(await repo.rotateRefreshToken(retired, newHash(), inMinutes(60))).toEqual({
          status: 'invalid',
        });
        // Another device's token is untouched.
        expect(await repo.rotateRefreshToken(other.hash, newHash(), inMinutes(60))).toEqual({
          status: 'rotated',
          deviceId: other.deviceId,
        });
      });

      it('never rotates a token of a revoked device', async () => {
        const device = await newDevice();
        await repo.revokeDevice(device.id, 'logout');
        const { hash } = await storedToken(device.id);
        const outcome = await repo.rotateRefreshToken(hash, newHash(), inMinutes(60));
        expect(outcome.status).not.toBe('rotated');
      });

      it('deleteExpiredRefreshTokens deletes the tokens expired before the time and counts them', async () => {
        const device = await newDevice();
        const a = await storedToken(device.id, longAgo(1972, 1));
        const b = await storedToken(device.id, longAgo(1972, 2));
        const atTheLimit = await storedToken(device.id, longAgo(1972, 3));
        const live = await storedToken(device.id, inMinutes(60));
        expect(await repo.deleteExpiredRefreshTokens(longAgo(1972, 3))).toBe(2);
        expect(await repo.deleteExpiredRefreshTokens(longAgo(1972, 3))).toBe(0);
        expect(await repo.deleteExpiredRefreshTokens(longAgo(1972, 3, 2))).toBe(1);
        for (const gone of [a, b, atTheLimit]) {
          expect(await repo.rotateRefreshToken(gone.hash, newHash(), inMinutes(60))).toEqual({
            status: 'invalid',
          });
        }
        expect(await repo.rotateRefreshToken(live.hash, newHash(), inMinutes(60))).toEqual({
          status: 'rotated',
          deviceId: device.id,
        });
      });
    });
  });
}

authRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  const users = t.app.get(UserRepository, { strict: false });
  return {
    repository: t.app.get(AuthRepository),
    newUserId: async () => (await users.findOrCreateByPhone(uuidv7(), uniquePhone())).user.id,
    close: () => t.close(),
  };
});
