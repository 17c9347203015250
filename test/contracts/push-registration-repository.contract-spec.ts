import { randomUUID } from 'node:crypto';
import { PushRegistrationRepository } from '../../src/modules/notifications/ports/push-registration.repository';
import type { PushRegistration } from '../../src/modules/notifications/domain/push';
import { startTestApp } from '../utils/test-app';

export interface PushRegistrationRepositoryHarness {
  repo: PushRegistrationRepository;
  close(): Promise<void>;
}

/** The behaviour every PushRegistrationRepository adapter must have. */
export function pushRegistrationRepositoryContract(
  adapter: string,
  factory: () => Promise<PushRegistrationRepositoryHarness>,
): void {
  describe(`PushRegistrationRepository contract: ${adapter}`, () => {
    let harness: PushRegistrationRepositoryHarness;
    let repo: PushRegistrationRepository;
    beforeAll(async () => {
      harness = await factory();
      repo = harness.repo;
    });
    afterAll(() => harness.close());

    const registration = (over: Partial<PushRegistration> = {}): PushRegistration => ({
      deviceId: randomUUID(),
      userId: randomUUID(),
      provider: 'fcm',
      token: `token-${randomUUID()}`,
      ...over,
    });

    it('keeps one token per device and provider, replacing it on upsert', async () => {
      const first = registration();
      await repo.upsert(first);
      const replaced = { ...first, token: 'newer-token-value' };
      await repo.upsert(replaced);
      const voip = registration({ ...first, provider: 'apns-voip', token: 'ab'.repeat(32) });
      await repo.upsert(voip);
      expect(await repo.forDevice(first.deviceId)).toEqual([voip, replaced]);
      expect(await repo.forDevice(randomUUID())).toEqual([]);
    });

    it('lists the registrations of several users, and removes by device', async () => {
      const a = registration();
      const a2 = registration({ userId: a.userId, provider: 'webpush' });
      const b = registration({ provider: 'unifiedpush' });
      const c = registration();
      for (const r of [a, a2, b, c]) await repo.upsert(r);
      const found = await repo.forUsers([a.userId, b.userId]);
      expect(new Set(found)).toEqual(new Set([a, a2, b].map((r) => expect.objectContaining(r))));
      expect(found).toHaveLength(3);
      expect(await repo.forUsers([])).toEqual([]);
      expect(await repo.removeDevice(a.deviceId)).toBe(1);
      expect(await repo.removeDevice(a.deviceId)).toBe(0);
      expect(await repo.forUsers([a.userId])).toEqual([a2]);
    });

    it('removes a token reported gone only while the device still holds that token', async () => {
      const r = registration({ provider: 'unifiedpush' });
      await repo.upsert(r);
      await repo.upsert({ ...r, token: 'https://up.example.com/newer' });
      expect(await repo.removeToken(r.deviceId, r.provider, r.token)).toBe(false);
      expect(await repo.forDevice(r.deviceId)).toHaveLength(1);
      expect(await repo.removeToken(r.deviceId, r.provider, 'https://up.example.com/newer')).toBe(
        true,
      );
      expect(await repo.forDevice(r.deviceId)).toEqual([]);
    });

    it('stores the preview setting per user (off unless turned on)', async () => {
      const on = randomUUID();
      const off = randomUUID();
      const never = randomUUID();
      await repo.setPreview(on, true);
      await repo.setPreview(off, true);
      await repo.setPreview(off, false);
      expect(await repo.previewUsers([on, off, never])).toEqual(new Set([on]));
      expect(await repo.previewUsers([])).toEqual(new Set());
    });
  });
}

pushRegistrationRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return { repo: t.app.get(PushRegistrationRepository, { strict: false }), close: () => t.close() };
});
