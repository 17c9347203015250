import { uuidv7 } from 'uuidv7';
import { PinRepository, type PinChallenge } from '../../src/modules/auth/ports/pin.repository';
import { UserRepository } from '../../src/modules/users/ports/user.repository';
import { uniquePhone } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/** A repository over empty storage, a way to make users (PINs belong to them), and a release. */
export interface PinRepositoryHarness {
  repository: PinRepository;
  newUserId(): Promise<string>;
  close(): Promise<void>;
}

const MINUTE = 60_000;
let counter = 0;
const newHash = () => `hash-${(counter += 1)}-${Math.random()}`;

/** The behaviour every PinRepository adapter must have. */
export function pinRepositoryContract(
  adapter: string,
  factory: () => Promise<PinRepositoryHarness>,
): void {
  describe(`PinRepository contract: ${adapter}`, () => {
    let harness: PinRepositoryHarness;
    let repo: PinRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    const challenge = async (
      userId: string,
      expiresAt = new Date(Date.now() + 10 * MINUTE),
    ): Promise<{ tokenHash: string; stored: PinChallenge }> => {
      const tokenHash = newHash();
      const stored: PinChallenge = {
        id: uuidv7(),
        userId,
        deviceName: 'Phone',
        platform: 'android',
        expiresAt,
      };
      await repo.createChallenge({ ...stored, tokenHash });
      return { tokenHash, stored };
    };

    it('sets, replaces and removes a PIN per user', async () => {
      const [a, b] = [await harness.newUserId(), await harness.newUserId()];
      expect(await repo.pinHash(a)).toBeNull();
      await repo.setPin(a, 'one');
      await repo.setPin(a, 'two');
      await repo.setPin(b, 'other');
      expect(await repo.pinHash(a)).toBe('two');
      expect(await repo.removePin(a)).toBe(true);
      expect(await repo.removePin(a)).toBe(false);
      expect(await repo.pinHash(a)).toBeNull();
      expect(await repo.pinHash(b)).toBe('other');
    });

    it('finds a live challenge by its token hash, until consumed once', async () => {
      const user = await harness.newUserId();
      const { tokenHash, stored } = await challenge(user);
      expect(await repo.liveChallenge(tokenHash, new Date())).toEqual(stored);
      expect(await repo.liveChallenge(newHash(), new Date())).toBeNull();
      const winners = await Promise.all([1, 2, 3].map(() => repo.consumeChallenge(stored.id)));
      expect(winners.filter(Boolean)).toHaveLength(1);
      expect(await repo.liveChallenge(tokenHash, new Date())).toBeNull();
    });

    it('judges expiry by the given time, and deletes the expired', async () => {
      const user = await harness.newUserId();
      const expiresAt = new Date(Date.UTC(1990, 0, 1));
      const { tokenHash } = await challenge(user, expiresAt);
      expect(await repo.liveChallenge(tokenHash, new Date(expiresAt.getTime() - 1))).not.toBeNull();
      expect(await repo.liveChallenge(tokenHash, expiresAt)).toBeNull();
      const live = await challenge(user);
      expect(await repo.deleteChallengesExpiredBefore(new Date(Date.UTC(1990, 0, 2)))).toBe(1);
      expect(await repo.liveChallenge(tokenHash, new Date(expiresAt.getTime() - 1))).toBeNull();
      expect(await repo.liveChallenge(live.tokenHash, new Date())).toEqual(live.stored);
    });
  });
}

pinRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  const users = t.app.get(UserRepository, { strict: false });
  return {
    repository: t.app.get(PinRepository, { strict: false }),
    newUserId: async () => (await users.findOrCreateByPhone(uuidv7(), uniquePhone())).user.id,
    close: () => t.close(),
  };
});
