import { KeyRepository } from '../../src/modules/keys/ports/key.repository';
import type { DeviceKeysUpload } from '../../src/modules/keys/domain/keys';
import { signIn } from '../utils/clients';
import { startTestApp, type TestApp } from '../utils/test-app';

export interface KeyRepositoryHarness {
  repository: KeyRepository;
  /** A new user with `devices` signed-in devices (the store refers to real devices). */
  newUser(devices: number): Promise<{ userId: string; deviceIds: string[] }>;
  close(): Promise<void>;
}

/** Key material is opaque to the store (the service verifies it first). */
function upload(
  userId: string,
  deviceId: string,
  options: { identity?: string; preKeys?: number; pqPreKeys?: number; lastResort?: boolean } = {},
): DeviceKeysUpload {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  return {
    userId,
    deviceId,
    identityKey: options.identity ?? `identity-${userId}`,
    registrationId: 42,
    signedPreKey: { keyId: 7, publicKey: `spk-${deviceId}`, signature: `sig-${deviceId}` },
    preKeys: range(options.preKeys ?? 0).map((keyId) => ({
      keyId,
      publicKey: `ec-${deviceId}-${keyId}`,
    })),
    pqLastResortPreKey:
      options.lastResort === false
        ? null
        : { keyId: 999, publicKey: `last-${deviceId}`, signature: `last-sig-${deviceId}` },
    pqPreKeys: range(options.pqPreKeys ?? 0).map((keyId) => ({
      keyId,
      publicKey: `kem-${deviceId}-${keyId}`,
      signature: `kem-sig-${deviceId}-${keyId}`,
    })),
  };
}

/** The behaviour every KeyRepository adapter must have. */
export function keyRepositoryContract(
  adapter: string,
  factory: () => Promise<KeyRepositoryHarness>,
): void {
  describe(`KeyRepository contract: ${adapter}`, () => {
    let harness: KeyRepositoryHarness;
    let repo: KeyRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('stores a device and hands out its lowest one-time keys, the last-resort Kyber key once none are left', async () => {
      const { userId, deviceIds } = await harness.newUser(1);
      const [device] = deviceIds;
      expect(await repo.counts(device)).toEqual({ count: 0, pqCount: 0 });
      expect(await repo.take(userId, null)).toBeNull();
      expect(await repo.store(upload(userId, device, { preKeys: 3, pqPreKeys: 1 }))).toEqual({
        identityChanged: false,
      });
      expect(await repo.counts(device)).toEqual({ count: 3, pqCount: 1 });

      const first = await repo.take(userId, [device]);
      expect(first).toEqual({
        identityKey: `identity-${userId}`,
        devices: [
          {
            deviceId: device,
            registrationId: 42,
            signedPreKey: { keyId: 7, publicKey: `spk-${device}`, signature: `sig-${device}` },
            preKey: { keyId: 1, publicKey: `ec-${device}-1` },
            pqPreKey: { keyId: 1, publicKey: `kem-${device}-1`, signature: `kem-sig-${device}-1` },
            remaining: { count: 2, pqCount: 0 },
          },
        ],
      });
      const second = await repo.take(userId, null);
      expect(second!.devices[0].preKey).toEqual({ keyId: 2, publicKey: `ec-${device}-2` });
      expect(second!.devices[0].pqPreKey).toEqual({
        keyId: 999,
        publicKey: `last-${device}`,
        signature: `last-sig-${device}`,
      });
      // The last-resort key is never used up.
      const third = await repo.take(userId, null);
      expect(third!.devices[0].pqPreKey?.keyId).toBe(999);
      const fourth = await repo.take(userId, null);
      expect(fourth!.devices[0].preKey).toBeNull();
      expect(fourth!.devices[0].pqPreKey?.keyId).toBe(999);
      expect(await repo.counts(device)).toEqual({ count: 0, pqCount: 0 });

      // A refill adds to what is left; a re-upload keeps the last-resort key unless it brings one.
      await repo.store({ ...upload(userId, device, { preKeys: 2 }), pqLastResortPreKey: null });
      expect(await repo.counts(device)).toEqual({ count: 2, pqCount: 0 });
      expect((await repo.take(userId, null))!.devices[0].pqPreKey?.keyId).toBe(999);
    });

    it('hands each of 20 one-time keys to exactly one of 50 concurrent fetches', async () => {
      const { userId, deviceIds } = await harness.newUser(1);
      const [device] = deviceIds;
      await repo.store(upload(userId, device, { preKeys: 20, pqPreKeys: 20 }));
      const results = await Promise.all(
        Array.from({ length: 50 }, () => repo.take(userId, [device])),
      );
      const ec = results.map((r) => r!.devices[0].preKey?.keyId ?? null);
      const handed = ec.filter((id): id is number => id !== null);
      expect(handed).toHaveLength(20);
      expect(new Set(handed).size).toBe(20);
      expect(ec.filter((id) => id === null)).toHaveLength(30);
      const kem = results.map((r) => r!.devices[0].pqPreKey!.keyId);
      const oneTime = kem.filter((id) => id !== 999);
      expect(oneTime).toHaveLength(20);
      expect(new Set(oneTime).size).toBe(20);
      expect(await repo.counts(device)).toEqual({ count: 0, pqCount: 0 });
    });

    it('takes one key from every device of the user, only from the devices asked for', async () => {
      const { userId, deviceIds } = await harness.newUser(3);
      const other = await harness.newUser(1);
      for (const d of deviceIds) await repo.store(upload(userId, d, { preKeys: 2 }));
      await repo.store(upload(other.userId, other.deviceIds[0], { preKeys: 2 }));
      expect(await repo.deviceIdsWithKeys(userId)).toEqual([...deviceIds].sort());

      const all = await repo.take(userId, null);
      expect(all!.devices.map((d) => d.deviceId)).toEqual([...deviceIds].sort());
      expect(all!.devices.every((d) => d.preKey?.keyId === 1)).toBe(true);
      const one = await repo.take(userId, [deviceIds[1]]);
      expect(one!.devices.map((d) => [d.deviceId, d.preKey?.keyId])).toEqual([[deviceIds[1], 2]]);
      // Another user's device is not this user's: nothing is taken from it.
      expect((await repo.take(userId, [other.deviceIds[0]]))!.devices).toEqual([]);
      expect(await repo.counts(other.deviceIds[0])).toEqual({ count: 2, pqCount: 0 });
    });

    it("replaces the identity for the whole user and drops the other devices' keys", async () => {
      const { userId, deviceIds } = await harness.newUser(2);
      const [a, b] = deviceIds;
      await repo.store(upload(userId, a, { preKeys: 1 }));
      expect((await repo.store(upload(userId, b, { preKeys: 1 }))).identityChanged).toBe(false);
      expect(
        (await repo.store(upload(userId, b, { identity: 'rotated', preKeys: 1 }))).identityChanged,
      ).toBe(true);
      const bundle = await repo.take(userId, null);
      expect(bundle!.identityKey).toBe('rotated');
      expect(bundle!.devices.map((d) => d.deviceId)).toEqual([b]);
      expect(await repo.counts(a)).toEqual({ count: 0, pqCount: 0 });
    });

    it('deletes every key of a device', async () => {
      const { userId, deviceIds } = await harness.newUser(2);
      const [a, b] = deviceIds;
      await repo.store(upload(userId, a, { preKeys: 3, pqPreKeys: 3 }));
      await repo.store(upload(userId, b, { preKeys: 3 }));
      await repo.deleteDevice(a);
      expect(await repo.counts(a)).toEqual({ count: 0, pqCount: 0 });
      expect((await repo.take(userId, [a]))!.devices).toEqual([]);
      expect((await repo.take(userId, null))!.devices.map((d) => d.deviceId)).toEqual([b]);
    });
  });
}

keyRepositoryContract('postgres', async () => {
  const t: TestApp = await startTestApp();
  return {
    repository: t.app.get(KeyRepository, { strict: false }),
    newUser: async (devices) => {
      const first = await signIn(t);
      const deviceIds = [first.deviceId];
      for (let i = 1; i < devices; i++) deviceIds.push((await signIn(t, first.phone)).deviceId);
      return { userId: first.userId, deviceIds };
    },
    close: () => t.close(),
  };
});
