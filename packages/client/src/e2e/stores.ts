import {
  Direction,
  IdentityChange,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  type IdentityKeyPair,
} from '@signalapp/libsignal-client';

/**
 * libsignal addresses a device by a name and a number from 1 to 127; Parley's device ids
 * are UUIDs. Each Parley device is its own name (`userId.deviceId`) with number 1.
 */
export const SIGNAL_DEVICE = 1;

export function addressOf(userId: string, deviceId: string): ProtocolAddress {
  return ProtocolAddress.new(`${userId}.${deviceId}`, SIGNAL_DEVICE);
}

function userOf(address: ProtocolAddress): string {
  return address.name().split('.')[0];
}

/**
 * libsignal's stores, in memory: this device's identity, prekeys and sessions. The
 * identity key is the user's (as in Signal), so peers' identities are kept per user.
 * Incoming messages from a changed identity are accepted (the app is told through
 * `identity:changed`); sending to one needs `forgetUser` first.
 */
export class MemorySignalStores {
  readonly identity: IdentityStore;
  readonly sessions = new Sessions();
  readonly preKeys = new PreKeys();
  readonly signedPreKeys = new SignedPreKeys();
  readonly kyberPreKeys = new KyberPreKeys();

  constructor(identityKeyPair: IdentityKeyPair, registrationId: number) {
    this.identity = new IdentityStore(identityKeyPair, registrationId);
  }

  /** Drops what is known of a user: their identity and every session with their devices. */
  forgetUser(userId: string): void {
    this.identity.forget(userId);
    this.sessions.forgetUser(userId);
  }
}

class IdentityStore extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();

  constructor(
    private readonly pair: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }

  getIdentityKey(): Promise<PrivateKey> {
    return Promise.resolve(this.pair.privateKey);
  }
  getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.registrationId);
  }
  saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const user = userOf(name);
    const previous = this.known.get(user);
    this.known.set(user, key);
    return Promise.resolve(
      previous && !previous.equals(key)
        ? IdentityChange.ReplacedExisting
        : IdentityChange.NewOrUnchanged,
    );
  }
  isTrustedIdentity(name: ProtocolAddress, key: PublicKey, direction: Direction): Promise<boolean> {
    const previous = this.known.get(userOf(name));
    return Promise.resolve(direction === Direction.Receiving || !previous || previous.equals(key));
  }
  getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return Promise.resolve(this.known.get(userOf(name)) ?? null);
  }
  forget(userId: string): void {
    this.known.delete(userId);
  }
}

class Sessions extends SessionStore {
  private readonly records = new Map<string, Uint8Array<ArrayBuffer>>();

  saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.records.set(name.name(), record.serialize());
    return Promise.resolve();
  }
  getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = this.records.get(name.name());
    return Promise.resolve(bytes ? SessionRecord.deserialize(bytes) : null);
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for (const a of addresses) {
      const record = await this.getSession(a);
      if (!record) throw new Error(`no session for ${a.name()}`);
      out.push(record);
    }
    return out;
  }
  async has(address: ProtocolAddress): Promise<boolean> {
    return (await this.getSession(address))?.hasCurrentState() ?? false;
  }
  forget(address: ProtocolAddress): void {
    this.records.delete(address.name());
  }
  forgetUser(userId: string): void {
    for (const name of [...this.records.keys()])
      if (name.startsWith(`${userId}.`)) this.records.delete(name);
  }
}

class PreKeys extends PreKeyStore {
  private readonly byId = new Map<number, Uint8Array<ArrayBuffer>>();

  savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.byId.set(id, record.serialize());
    return Promise.resolve();
  }
  getPreKey(id: number): Promise<PreKeyRecord> {
    const bytes = this.byId.get(id);
    if (!bytes) return Promise.reject(new Error(`no prekey ${id}`));
    return Promise.resolve(PreKeyRecord.deserialize(bytes));
  }
  removePreKey(id: number): Promise<void> {
    this.byId.delete(id);
    return Promise.resolve();
  }
}

class SignedPreKeys extends SignedPreKeyStore {
  private readonly byId = new Map<number, Uint8Array<ArrayBuffer>>();

  saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.byId.set(id, record.serialize());
    return Promise.resolve();
  }
  getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const bytes = this.byId.get(id);
    if (!bytes) return Promise.reject(new Error(`no signed prekey ${id}`));
    return Promise.resolve(SignedPreKeyRecord.deserialize(bytes));
  }
}

class KyberPreKeys extends KyberPreKeyStore {
  private readonly byId = new Map<number, Uint8Array<ArrayBuffer>>();
  /** The last-resort key is never removed; one-time keys go once used. */
  lastResortId: number | null = null;

  saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.byId.set(id, record.serialize());
    return Promise.resolve();
  }
  getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const bytes = this.byId.get(id);
    if (!bytes) return Promise.reject(new Error(`no Kyber prekey ${id}`));
    return Promise.resolve(KyberPreKeyRecord.deserialize(bytes));
  }
  markKyberPreKeyUsed(id: number): Promise<void> {
    if (id !== this.lastResortId) this.byId.delete(id);
    return Promise.resolve();
  }
}
