/** Public key material of libsignal, each key base64 of libsignal's serialized form. */
export interface PreKey {
  keyId: number;
  publicKey: string;
}

/** A key signed by the identity key (XEdDSA, as libsignal signs). */
export interface SignedPreKey extends PreKey {
  signature: string;
}

/** What one device uploads: its signed prekey, and one-time and last-resort keys. */
export interface DeviceKeysUpload {
  userId: string;
  deviceId: string;
  identityKey: string;
  registrationId: number;
  signedPreKey: SignedPreKey;
  preKeys: PreKey[];
  pqLastResortPreKey: SignedPreKey | null;
  pqPreKeys: SignedPreKey[];
}

/** One device's part of a bundle: one-time keys taken for this fetch only. */
export interface DeviceBundle {
  deviceId: string;
  registrationId: number;
  signedPreKey: SignedPreKey;
  /** Null once the device's one-time prekeys are used up. */
  preKey: PreKey | null;
  /** A one-time Kyber key, else the last-resort one; null if the device uploaded neither. */
  pqPreKey: SignedPreKey | null;
}

/** One-time keys a device has left. */
export interface KeyCounts {
  count: number;
  pqCount: number;
}

export interface TakenBundle {
  identityKey: string;
  devices: Array<DeviceBundle & { remaining: KeyCounts }>;
}

/** Largest number of one-time keys of each kind in one upload. */
export const MAX_KEYS_PER_UPLOAD = 100;
/** libsignal registration ids are 14-bit, 0 reserved. */
export const MAX_REGISTRATION_ID = 16380;
