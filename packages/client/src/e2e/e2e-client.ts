import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  PublicKey,
  SignalMessage,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import type {
  DeviceMismatch,
  Envelope,
  KeyBundle,
  Message,
  SignedPreKeyWire,
  UploadKeysRequest,
} from '@parley/protocol';
import type { MessageSource, ParleyClient } from '../client';
import { TypedEmitter } from '../emitter';
import { ParleyError } from '../errors';
import { newUuid } from '../uuid';
import { MemorySignalStores, SIGNAL_DEVICE, addressOf } from './stores';

/** An envelope body: a marker, libsignal's message type, and the ciphertext in base64. */
const ENVELOPE_PREFIX = 'sig1:';
/** Most attempts of one send when the members' devices keep changing under it. */
const MAX_SEND_ATTEMPTS = 4;

export interface E2eMessage {
  message: Message;
  source: MessageSource;
  /** The decrypted text; for plain (not end-to-end) messages the body as it came. */
  text: string | null;
  /** Whether it came end-to-end encrypted (and was decrypted). */
  encrypted: boolean;
}

export interface E2eEvents {
  /** Every message of the underlying client once, decrypted in arrival order. */
  message: E2eMessage;
  /** A peer's identity key changed: their sessions were dropped (verify them again). */
  'identity:changed': { userId: string };
  /** A message this device could not decrypt. */
  'decrypt-error': { message: Message; error: unknown };
}

export interface E2eOptions {
  /** The user's identity key pair: give the first device's to every other device of the user. */
  identity?: IdentityKeyPair;
  /** One-time keys of each kind uploaded at a time (at most 100; default 50). */
  batchSize?: number;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytes = (text: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(text, 'base64'));

/**
 * End-to-end encryption over a ParleyClient with libsignal (Node only): keys generated
 * and uploaded for this device, sessions set up from prekey bundles, one envelope per
 * device of every member, decrypted on arrival; prekeys refilled on `keys:low`, the send
 * re-encrypted for the right devices on DEVICES_CHANGED, sessions dropped on
 * `identity:changed`.
 */
export class E2eClient extends TypedEmitter<E2eEvents> {
  private readonly stores: MemorySignalStores;
  /** Known devices of each user (this device left out). */
  private readonly devices = new Map<string, Set<string>>();
  private readonly sentTexts = new Map<string, string>();
  private nextPreKeyId = 1;
  private nextKyberId = 1;
  private refilling?: Promise<void>;
  private decrypting: Promise<void> = Promise.resolve();
  private readonly signedPreKey: SignedPreKeyWire;
  private readonly lastResort: SignedPreKeyWire;

  private constructor(
    readonly client: ParleyClient,
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
    private readonly batchSize: number,
  ) {
    super();
    this.stores = new MemorySignalStores(identity, registrationId);
    this.signedPreKey = this.newSignedPreKey(1);
    this.lastResort = this.newKyberKey(0x7fffff, true);
    client.on('message', (m) => {
      this.decrypting = this.decrypting.then(() => this.receive(m.message, m.source));
    });
    client.on('keys:low', () => void this.refill().catch(() => undefined));
    client.on('identity:changed', ({ userId }) => {
      this.stores.forgetUser(userId);
      this.devices.delete(userId);
      this.emit('identity:changed', { userId });
    });
  }

  /** Sets up E2E for a signed-in client: generates this device's keys and uploads them. */
  static async create(client: ParleyClient, options: E2eOptions = {}): Promise<E2eClient> {
    if (!client.session) throw new ParleyError({ code: 'UNAUTHORIZED', message: 'not signed in' });
    const e2e = new E2eClient(
      client,
      options.identity ?? IdentityKeyPair.generate(),
      1 + Math.floor(Math.random() * 16_000),
      Math.min(options.batchSize ?? 50, 100),
    );
    await e2e.upload(true);
    return e2e;
  }

  /** The user's identity key pair, for setting up another device of the same user. */
  get identityKeyPair(): IdentityKeyPair {
    return this.identity;
  }

  private get me(): { userId: string; deviceId: string } {
    const session = this.client.session;
    if (!session) throw new ParleyError({ code: 'UNAUTHORIZED', message: 'not signed in' });
    return session;
  }

  // ---- keys ------------------------------------------------------------------------------

  private newSignedPreKey(id: number): SignedPreKeyWire {
    const key = PrivateKey.generate();
    const publicKey = key.getPublicKey();
    const signature = this.identity.privateKey.sign(publicKey.serialize());
    void this.stores.signedPreKeys.saveSignedPreKey(
      id,
      SignedPreKeyRecord.new(id, Date.now(), publicKey, key, signature),
    );
    return { keyId: id, publicKey: b64(publicKey.serialize()), signature: b64(signature) };
  }

  private newKyberKey(id: number, lastResort = false): SignedPreKeyWire {
    const pair = KEMKeyPair.generate();
    const publicKey = pair.getPublicKey().serialize();
    const signature = this.identity.privateKey.sign(publicKey);
    void this.stores.kyberPreKeys.saveKyberPreKey(
      id,
      KyberPreKeyRecord.new(id, Date.now(), pair, signature),
    );
    if (lastResort) this.stores.kyberPreKeys.lastResortId = id;
    return { keyId: id, publicKey: b64(publicKey), signature: b64(signature) };
  }

  /** Uploads a batch of new one-time keys (with the identity and signed prekey). */
  private async upload(first: boolean): Promise<void> {
    const preKeys = Array.from({ length: this.batchSize }, () => {
      const id = this.nextPreKeyId++;
      const key = PrivateKey.generate();
      void this.stores.preKeys.savePreKey(id, PreKeyRecord.new(id, key.getPublicKey(), key));
      return { keyId: id, publicKey: b64(key.getPublicKey().serialize()) };
    });
    const pqPreKeys = Array.from({ length: this.batchSize }, () =>
      this.newKyberKey(this.nextKyberId++),
    );
    const request: UploadKeysRequest = {
      identityKey: b64(this.identity.publicKey.serialize()),
      registrationId: this.registrationId,
      signedPreKey: this.signedPreKey,
      preKeys,
      pqPreKeys,
      ...(first ? { pqLastResortPreKey: this.lastResort } : {}),
    };
    await this.client.api.uploadKeys(request);
  }

  /** Uploads more one-time keys (the server asks with `keys:low`); one refill at a time. */
  refill(): Promise<void> {
    this.refilling ??= this.upload(false).finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends `text` end-to-end to a conversation (or the direct chat with `recipientId`): one
   * envelope per device of every member. Resolves with the stored message.
   */
  async send(
    target: { conversationId: string } | { recipientId: string },
    text: string,
    extra: { replyToId?: string } = {},
  ): Promise<Message> {
    const conversationId =
      'conversationId' in target
        ? target.conversationId
        : (await this.client.api.directConversation(target.recipientId)).id;
    const members = await this.membersOf(conversationId);
    for (const userId of members) if (!this.devices.has(userId)) await this.discover(userId);
    const clientMsgId = newUuid();
    this.sentTexts.set(clientMsgId, text);
    for (let attempt = 1; ; attempt++) {
      const envelopes = await this.encryptFor(members, text);
      try {
        return await this.client.send({
          clientMsgId,
          conversationId,
          type: 'text',
          envelopes,
          ...extra,
        });
      } catch (error) {
        if (
          !(error instanceof ParleyError) ||
          error.code !== 'DEVICES_CHANGED' ||
          attempt >= MAX_SEND_ATTEMPTS
        ) {
          this.sentTexts.delete(clientMsgId);
          throw error;
        }
        this.applyMismatches((error.details ?? []) as unknown as DeviceMismatch[]);
      }
    }
  }

  /** The conversation's members, this user included. */
  private async membersOf(conversationId: string): Promise<string[]> {
    const conversation = await this.client.api.conversation(conversationId);
    if (conversation.type === 'direct')
      return [this.me.userId, ...(conversation.peerId ? [conversation.peerId] : [])];
    const members: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.api.groupMembers(conversationId, { cursor, limit: 100 });
      members.push(...page.members.map((m) => m.userId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return members;
  }

  /** Learns a user's devices with keys, setting up a session with each from its bundle. */
  private async discover(userId: string): Promise<void> {
    const known = new Set<string>();
    this.devices.set(userId, known);
    let bundle: KeyBundle;
    try {
      bundle = await this.client.api.keyBundle(userId, '*');
    } catch (error) {
      if (error instanceof ParleyError && error.code === 'NOT_FOUND') return;
      throw error;
    }
    for (const device of bundle.devices) {
      if (device.deviceId === this.me.deviceId) continue;
      known.add(device.deviceId);
      await this.startSession(userId, bundle.identityKey, device);
    }
  }

  private async startSession(
    userId: string,
    identityKey: string,
    d: KeyBundle['devices'][number],
  ): Promise<void> {
    if (!d.pqPreKey) throw new Error(`device ${d.deviceId} has no Kyber prekey`);
    const bundle = PreKeyBundle.new(
      d.registrationId,
      SIGNAL_DEVICE,
      d.preKey?.keyId ?? null,
      d.preKey ? PublicKey.deserialize(bytes(d.preKey.publicKey)) : null,
      d.signedPreKey.keyId,
      PublicKey.deserialize(bytes(d.signedPreKey.publicKey)),
      bytes(d.signedPreKey.signature),
      PublicKey.deserialize(bytes(identityKey)),
      d.pqPreKey.keyId,
      KEMPublicKey.deserialize(bytes(d.pqPreKey.publicKey)),
      bytes(d.pqPreKey.signature),
    );
    await processPreKeyBundle(
      bundle,
      addressOf(userId, d.deviceId),
      addressOf(this.me.userId, this.me.deviceId),
      this.stores.sessions,
      this.stores.identity,
    );
  }

  /** One envelope per known device of the members; fetches a bundle where no session is. */
  private async encryptFor(members: readonly string[], text: string): Promise<Envelope[]> {
    const plaintext = new Uint8Array(Buffer.from(text, 'utf8'));
    const local = addressOf(this.me.userId, this.me.deviceId);
    const envelopes: Envelope[] = [];
    for (const userId of members) {
      for (const deviceId of this.devices.get(userId) ?? []) {
        const address = addressOf(userId, deviceId);
        if (!(await this.stores.sessions.has(address))) {
          const bundle = await this.client.api.keyBundle(userId, deviceId);
          await this.startSession(userId, bundle.identityKey, bundle.devices[0]);
        }
        const sealed = await signalEncrypt(
          plaintext,
          address,
          local,
          this.stores.sessions,
          this.stores.identity,
        );
        envelopes.push({
          deviceId,
          body: `${ENVELOPE_PREFIX}${sealed.type()}:${b64(sealed.serialize())}`,
        });
      }
    }
    return envelopes;
  }

  /** Takes the server's word for the members' devices: adds the missing, drops the extra. */
  private applyMismatches(mismatches: readonly DeviceMismatch[]): void {
    for (const m of mismatches) {
      for (const [userId, set] of this.devices) {
        for (const id of m.extraDevices) {
          if (set.delete(id)) this.stores.sessions.forget(addressOf(userId, id));
        }
      }
      if (!m.userId) continue;
      let set = this.devices.get(m.userId);
      if (!set) this.devices.set(m.userId, (set = new Set()));
      for (const id of m.missingDevices) set.add(id);
    }
  }

  // ---- receiving -------------------------------------------------------------------------

  private async receive(message: Message, source: MessageSource): Promise<void> {
    if (source === 'self') {
      const text = this.sentTexts.get(message.clientMsgId) ?? null;
      this.sentTexts.delete(message.clientMsgId);
      this.emit('message', { message, source, text, encrypted: text !== null });
      return;
    }
    const body = message.body;
    if (!body?.startsWith(ENVELOPE_PREFIX)) {
      this.emit('message', { message, source, text: body, encrypted: false });
      return;
    }
    try {
      const text = await this.decrypt(message, body);
      this.emit('message', { message, source, text, encrypted: true });
    } catch (error) {
      this.emit('decrypt-error', { message, error });
    }
  }

  private async decrypt(message: Message, body: string): Promise<string> {
    const [type, data] = body.slice(ENVELOPE_PREFIX.length).split(':');
    const sender = addressOf(message.senderId, message.senderDeviceId);
    const local = addressOf(this.me.userId, this.me.deviceId);
    const s = this.stores;
    const plaintext =
      type === String(CiphertextMessageType.PreKey)
        ? await signalDecryptPreKey(
            PreKeySignalMessage.deserialize(bytes(data)),
            sender,
            local,
            s.sessions,
            s.identity,
            s.preKeys,
            s.signedPreKeys,
            s.kyberPreKeys,
          )
        : await signalDecrypt(
            SignalMessage.deserialize(bytes(data)),
            sender,
            local,
            s.sessions,
            s.identity,
          );
    // A device that wrote to us is one of its user's devices.
    let set = this.devices.get(message.senderId);
    if (!set) this.devices.set(message.senderId, (set = new Set()));
    if (message.senderDeviceId !== this.me.deviceId) set.add(message.senderDeviceId);
    return Buffer.from(plaintext).toString('utf8');
  }
}
