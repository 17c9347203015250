import type { DeviceKeysUpload, KeyCounts, TakenBundle } from '../domain/keys';

/** The outcome of an upload: whether it replaced the user's identity key. */
export interface StoreOutcome {
  identityChanged: boolean;
}

/**
 * Public E2E keys: one identity key per user, and per device a signed prekey, one-time
 * EC prekeys and Kyber prekeys (one-time and one last-resort). Only public keys and
 * signatures are stored; signatures are checked before anything reaches the store.
 */
export abstract class KeyRepository {
  /**
   * Stores a device's keys in one transaction. The identity key is the user's: a
   * different one replaces it and drops the keys of the user's other devices (they were
   * signed by the old identity and would fail every client's check). One-time keys are
   * added to those the device has (a key id already stored is replaced); the signed
   * prekey and last-resort key replace the device's current ones.
   */
  abstract store(upload: DeviceKeysUpload): Promise<StoreOutcome>;
  /** One-time keys the device has left ({0, 0} for a device without keys). */
  abstract counts(deviceId: string): Promise<KeyCounts>;
  /**
   * The user's identity key and, for each of the given devices that has keys (every
   * device of the user with keys when `deviceIds` is null), its signed prekey, one
   * one-time EC prekey and one one-time Kyber key (else the last-resort Kyber key),
   * with what remains. One-time keys are taken atomically: however many fetches run at
   * once, no key is handed out twice. Null when the user has no identity key.
   */
  abstract take(userId: string, deviceIds: readonly string[] | null): Promise<TakenBundle | null>;
  /** The user's devices that have keys. */
  abstract deviceIdsWithKeys(userId: string): Promise<string[]>;
  /** Deletes every key of a device (removed or logged out). */
  abstract deleteDevice(deviceId: string): Promise<void>;
}
