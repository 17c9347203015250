import { uuidv7 } from 'uuidv7';
import { SigningKeyRepository } from '../../src/modules/auth/ports/signing-key.repository';
import { startTestApp } from '../utils/test-app';

export interface SigningKeyRepositoryHarness {
  /** A repository over storage that holds no signing keys yet. */
  repository: SigningKeyRepository;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const key = () => ({ kid: uuidv7(), secret: `secret-${uuidv7()}` });

/** The behaviour every SigningKeyRepository adapter must have. */
export function signingKeyRepositoryContract(
  adapter: string,
  factory: () => Promise<SigningKeyRepositoryHarness>,
): void {
  describe(`SigningKeyRepository contract: ${adapter}`, () => {
    let harness: SigningKeyRepositoryHarness;
    let repo: SigningKeyRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    it('adds the first key, and refuses a second while the first is newer than the cut-off', async () => {
      expect(await repo.list()).toEqual([]);
      const first = key();
      expect(await repo.addUnlessNewerExists(first, new Date(0))).toBe(true);
      expect(await repo.addUnlessNewerExists(key(), new Date(Date.now() - HOUR))).toBe(false);
      const keys = await repo.list();
      expect(keys).toEqual([{ ...first, createdAt: expect.any(Date) }]);
    });

    it('adds exactly one key when many instances rotate at the same moment', async () => {
      // Every existing key is older than this instant, so each call is entitled to rotate.
      await new Promise((r) => setTimeout(r, 5));
      const cutoff = new Date();
      const before = (await repo.list()).length;
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => repo.addUnlessNewerExists(key(), cutoff)),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await repo.list()).toHaveLength(before + 1);
    });

    it('lists newest first and deletes old keys but never the newest', async () => {
      const keys = await repo.list();
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < keys.length; i += 1) {
        expect(keys[i - 1].createdAt.getTime()).toBeGreaterThanOrEqual(keys[i].createdAt.getTime());
      }
      const newest = keys[0];
      const removed = await repo.deleteCreatedBefore(new Date(Date.now() + HOUR));
      expect(removed).toBe(keys.length - 1);
      expect(await repo.list()).toEqual([newest]);
      expect(await repo.deleteCreatedBefore(new Date(Date.now() + HOUR))).toBe(0);
    });

    it('keeps the first candidate of a named secret, whoever asks later', async () => {
      const name = `test-${uuidv7()}`;
      const [a, b] = await Promise.all([
        repo.namedSecret(name, 'candidate-a'),
        repo.namedSecret(name, 'candidate-b'),
      ]);
      expect(a).toBe(b);
      expect(['candidate-a', 'candidate-b']).toContain(a);
      expect(await repo.namedSecret(name, 'candidate-c')).toBe(a);
    });
  });
}

// With JWT_SECRET set (as test apps run) the app stores no key of its own.
signingKeyRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return { repository: t.app.get(SigningKeyRepository, { strict: false }), close: () => t.close() };
});
