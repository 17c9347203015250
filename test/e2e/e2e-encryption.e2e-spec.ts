import type { ParleyClient } from '@parley/client';
import { E2eClient, IdentityKeyPair, type E2eMessage } from '@parley/client/e2e';
import { PrivateKey } from '@signalapp/libsignal-client';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, request, uniquePhone } from '../utils/clients';
import { http } from '../utils/http';
import { startServerProcess, type ServerProcess } from '../utils/processes';
import { sdkClients } from '../utils/sdk-clients';
import { allRows } from '../utils/table-scan';
import { backendFromEnvironment, freshDatabase } from '../utils/test-app';
import { eventually } from '../utils/wait';

/** Every plaintext sent end-to-end in this file: none may reach the database or the log. */
const secrets: string[] = [];
const secret = (label: string) => {
  const text = `${label} ${randomUUID()}`;
  secrets.push(text);
  return text;
};

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

let server: ServerProcess;
let dataDir: string;
let database: { url: string; drop: () => Promise<void> } | undefined;
const clients = sdkClients(() => server);

/** A device of a user with E2E set up, and every message it decrypted. */
interface Device {
  client: ParleyClient;
  e2e: E2eClient;
  inbox: E2eMessage[];
  userId: string;
  deviceId: string;
  token: () => string;
}

async function device(
  phone: string,
  options: { identity?: IdentityKeyPair; online?: boolean; batchSize?: number } = {},
): Promise<Device> {
  const client = await clients.signedIn(phone);
  const e2e = await E2eClient.create(client, {
    identity: options.identity,
    batchSize: options.batchSize,
  });
  const inbox: E2eMessage[] = [];
  e2e.on('message', (m) => inbox.push(m));
  if (options.online !== false) await client.connect();
  const session = client.session!;
  return {
    client,
    e2e,
    inbox,
    userId: session.userId,
    deviceId: session.deviceId,
    token: () => client.session!.accessToken,
  };
}

const texts = (d: Device, conversationId: string) =>
  d.inbox
    .filter(
      (m) => m.message.conversationId === conversationId && m.message.senderDeviceId !== d.deviceId,
    )
    .map((m) => m.text);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const backend = backendFromEnvironment();
  if (backend.databaseUrl) database = await freshDatabase(backend.databaseUrl);
  server = await startServerProcess(
    {
      DATA_DIR: dataDir,
      // Everything the server can say about a request, so the scan below sees it all.
      LOG_LEVEL: 'trace',
      ...(database ? { DATABASE_URL: database.url } : {}),
    },
    180_000,
    50_000_000,
  );
}, 240_000);

afterAll(async () => {
  clients.closeAll();
  await server?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('end-to-end encryption (e2e)', () => {
  let alice1: Device;
  let alice2: Device;
  let bob1: Device;
  let conversationId: string;
  const alicePhone = uniquePhone();
  const bobPhone = uniquePhone();

  /** Alice's raw send of envelopes to these devices, which must store nothing. */
  const refusedSend = async (deviceIds: string[]) => {
    const lastSeq = async (): Promise<number> =>
      (
        await http(server.api, 'GET', `/conversations/${conversationId}`, {
          token: alice1.token(),
        })
      ).body.lastSeq;
    const before = await lastSeq();
    const socket = await connect(server, alice1.token());
    const ack = await request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      conversationId,
      type: 'text',
      envelopes: deviceIds.map((deviceId) => ({ deviceId, body: 'sig1:2:AAAA' })),
    });
    socket.close();
    expect(await lastSeq()).toBe(before);
    return { ack, lastSeq: before };
  };

  it('two people on three devices: the first message through a prekey bundle, then replies', async () => {
    alice1 = await device(alicePhone);
    // A user's devices share the identity key, as in Signal.
    alice2 = await device(alicePhone, { identity: alice1.e2e.identityKeyPair });
    bob1 = await device(bobPhone);

    const hello = secret('hello Bob');
    const sent = await alice1.e2e.send({ recipientId: bob1.userId }, hello);
    conversationId = sent.conversationId;
    // The sending device has no envelope of its own; the server never saw the text.
    expect(sent.body).toBeNull();
    await eventually(() => expect(texts(bob1, conversationId)).toEqual([hello]), 10_000);
    await eventually(() => expect(texts(alice2, conversationId)).toEqual([hello]), 10_000);
    const received = bob1.inbox.find((m) => m.text === hello)!;
    expect(received.encrypted).toBe(true);
    expect(received.message.body).toMatch(/^sig1:3:/); // a PreKeySignalMessage

    const reply = secret('hi Alice');
    const replied = await bob1.e2e.send({ conversationId }, reply, { replyToId: sent.id });
    expect(replied.replyToId).toBe(sent.id);
    await eventually(() => expect(texts(alice1, conversationId)).toEqual([reply]), 10_000);
    await eventually(() => expect(texts(alice2, conversationId)).toContain(reply), 10_000);

    // Sessions are set up: the next messages are plain Signal messages both ways.
    const second = secret('how are you');
    await alice1.e2e.send({ conversationId }, second);
    await eventually(() => expect(texts(bob1, conversationId)).toEqual([hello, second]), 10_000);
    expect(bob1.inbox.find((m) => m.text === second)!.message.body).toMatch(/^sig1:2:/);
    const third = secret('fine, thanks');
    await bob1.e2e.send({ conversationId }, third);
    await eventually(() => expect(texts(alice1, conversationId)).toEqual([reply, third]), 10_000);

    // History gives each device its own envelope: Bob's reads his and decrypts nothing twice.
    const history = await http(server.api, 'GET', `/conversations/${conversationId}/messages`, {
      token: alice2.token(),
    });
    const bodies = (history.body.messages as Array<{ id: string; body: string | null }>).map(
      (m) => m.body,
    );
    expect(bodies).toHaveLength(4);
    for (const body of bodies) expect(body).toMatch(/^sig1:/);
    const bobHistory = await http(server.api, 'GET', `/conversations/${conversationId}/messages`, {
      token: bob1.token(),
    });
    const bobBodies = (bobHistory.body.messages as Array<{ body: string | null }>).map(
      (m) => m.body,
    );
    // Bob's own sends have no envelope for the sending device; Alice's have his.
    expect(bobBodies[0]).toMatch(/^sig1:/);
    expect(bobBodies[0]).not.toEqual(bodies[0]);
    expect(bobBodies[1]).toBeNull();
  }, 60_000);

  it('a device added mid-conversation: DEVICES_CHANGED, a bundle for it, and the send retried', async () => {
    const bob2 = await device(bobPhone, { identity: bob1.e2e.identityKeyPair });

    // What the SDK meets under the hood: the old device set is refused, nothing stored.
    const { ack: stale, lastSeq } = await refusedSend([alice2.deviceId, bob1.deviceId]);
    expect(stale).toEqual({
      ok: false,
      error: {
        code: 'DEVICES_CHANGED',
        message: expect.any(String),
        details: [{ userId: bob1.userId, missingDevices: [bob2.deviceId], extraDevices: [] }],
      },
    });

    const news = secret('Bob has a new phone');
    await alice1.e2e.send({ conversationId }, news);
    for (const d of [bob1, bob2, alice2])
      await eventually(() => expect(texts(d, conversationId)).toContain(news), 10_000);
    // The new device reads only what was sent after it joined.
    expect(texts(bob2, conversationId)).toEqual([news]);

    // A removed device: its keys go, the next send drops it, it gets nothing more.
    const bob2Token = bob2.token();
    const removed = await http(server.api, 'DELETE', `/devices/${bob2.deviceId}`, {
      token: bob1.token(),
    });
    expect(removed.status).toBe(204);
    const keys = await http(server.api, 'GET', `/keys/${bob1.userId}/${bob2.deviceId}`, {
      token: alice1.token(),
    });
    expect(keys.body.code).toBe('NOT_FOUND');
    const later = secret('after the removal');
    const sent = await alice1.e2e.send({ conversationId }, later);
    await eventually(() => expect(texts(bob1, conversationId)).toContain(later), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(bob2, conversationId)).toEqual([news]);
    const stranger = await connect(server, bob2Token).catch((e: Error) => e);
    expect(stranger).toBeInstanceOf(Error);
    expect(sent.seq).toBeGreaterThan(lastSeq);
  }, 60_000);

  it('an offline device catches up through sync and decrypts everything, the last one through a last-resort Kyber key', async () => {
    // Carol uploads two one-time keys of each kind and stays offline.
    const carol = await device(uniquePhone(), { online: false, batchSize: 2 });
    const drainer = await clients.signedIn();
    const take = () =>
      http(server.api, 'GET', `/keys/${carol.userId}/*`, {
        token: drainer.session!.accessToken,
      });
    for (let i = 0; i < 2; i++) {
      const bundle = await take();
      expect(bundle.status).toBe(200);
      expect(bundle.body.devices[0].preKey).not.toBeNull();
      expect(bundle.body.devices[0].pqPreKey.keyId).not.toBe(0x7fffff);
    }
    const exhausted = await take();
    expect(exhausted.body.devices[0].preKey).toBeNull();
    expect(exhausted.body.devices[0].pqPreKey.keyId).toBe(0x7fffff);

    // Two senders set up sessions from the exhausted bundle (no one-time key, last-resort
    // Kyber key) and write while Carol is offline.
    const dave = await device(uniquePhone());
    const erin = await device(uniquePhone());
    const fromDave = [secret('Dave 1'), secret('Dave 2')];
    const fromErin = [secret('Erin 1')];
    let daveChat = '';
    for (const text of fromDave)
      daveChat = (await dave.e2e.send({ recipientId: carol.userId }, text)).conversationId;
    const erinChat = (await erin.e2e.send({ recipientId: carol.userId }, fromErin[0]))
      .conversationId;

    await carol.client.connect();
    await eventually(() => {
      expect(texts(carol, daveChat)).toEqual(fromDave);
      expect(texts(carol, erinChat)).toEqual(fromErin);
    }, 15_000);
    expect(carol.inbox.every((m) => m.source === 'sync')).toBe(true);

    // Online now: the next fetch finds her low and she refills.
    const low = carol.client.next('keys:low');
    expect((await take()).status).toBe(200);
    expect(await low).toEqual({ count: 0, pqCount: 0 });
    await eventually(async () => {
      const counts = await http(server.api, 'GET', '/keys/count', { token: carol.token() });
      expect(counts.body).toEqual({ count: 2, pqCount: 2 });
    }, 10_000);
  }, 90_000);

  it('refuses forged, oversize and malformed keys, a stranger’s device ids, and envelopes outside the conversation', async () => {
    const mallory = await clients.signedIn();
    const token = mallory.session!.accessToken;
    const identity = PrivateKey.generate();
    const signedKey = PrivateKey.generate().getPublicKey().serialize();
    const valid = {
      identityKey: b64(identity.getPublicKey().serialize()),
      registrationId: 7,
      signedPreKey: {
        keyId: 1,
        publicKey: b64(signedKey),
        signature: b64(identity.sign(signedKey)),
      },
    };
    const put = (body: unknown) => http(server.api, 'PUT', '/keys', { token, body });
    const forged = await put({
      ...valid,
      signedPreKey: {
        ...valid.signedPreKey,
        signature: b64(PrivateKey.generate().sign(signedKey)),
      },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('VALIDATION_FAILED');
    const preKeys = Array.from({ length: 101 }, (_, i) => ({
      keyId: i,
      publicKey: b64(PrivateKey.generate().getPublicKey().serialize()),
    }));
    const oversize = await put({ ...valid, preKeys });
    expect([oversize.status, oversize.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const malformed = await put({ ...valid, identityKey: 'not base64!' });
    expect([malformed.status, malformed.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    // Nothing of the refused uploads was kept.
    const counts = await http(server.api, 'GET', '/keys/count', { token });
    expect(counts.body).toEqual({ count: 0, pqCount: 0 });
    const none = await http(server.api, 'GET', `/keys/${mallory.session!.userId}/*`, { token });
    expect(none.body.code).toBe('NOT_FOUND');

    // Bob's device id under Alice's user id is nobody's.
    const wrongOwner = await http(server.api, 'GET', `/keys/${alice1.userId}/${bob1.deviceId}`, {
      token,
    });
    expect([wrongOwner.status, wrongOwner.body.code]).toEqual([404, 'NOT_FOUND']);

    // A member addressing a stranger's device: DEVICES_CHANGED, nothing stored.
    const { ack: outside } = await refusedSend([
      alice2.deviceId,
      bob1.deviceId,
      mallory.session!.deviceId,
    ]);
    expect(outside.ok).toBe(false);
    expect(outside.error.code).toBe('DEVICES_CHANGED');
    expect(outside.error.details).toEqual([
      { userId: null, missingDevices: [], extraDevices: [mallory.session!.deviceId] },
    ]);

    // A non-member learns nothing about the members' devices.
    const intruder = await connect(server, token);
    const refused = await request(intruder, 'message:send', {
      clientMsgId: randomUUID(),
      conversationId,
      type: 'text',
      envelopes: [{ deviceId: bob1.deviceId, body: 'sig1:2:AAAA' }],
    });
    intruder.close();
    expect(refused.error.code).toBe('NOT_A_MEMBER');
    expect(refused.error.details).toBeUndefined();
  }, 60_000);

  it('a new identity key reaches everyone who shares a conversation, and sessions start over', async () => {
    const frankPhone = uniquePhone();
    const frank1 = await device(frankPhone);
    const grace = await device(uniquePhone());
    const outsider = await device(uniquePhone());
    const first = secret('before the reinstall');
    const chat = (await frank1.e2e.send({ recipientId: grace.userId }, first)).conversationId;
    await eventually(() => expect(texts(grace, chat)).toEqual([first]), 10_000);

    // Frank reinstalls: a new device with a new identity, the old one signed out.
    const changed = grace.e2e.next('identity:changed');
    const noticed: string[] = [];
    outsider.client.on('identity:changed', ({ userId }) => noticed.push(userId));
    const frank2 = await device(frankPhone, { identity: IdentityKeyPair.generate() });
    expect(await changed).toEqual({ userId: frank1.userId });
    await frank1.client.signOut();

    const after = secret('after the reinstall');
    await grace.e2e.send({ conversationId: chat }, after);
    await eventually(() => expect(texts(frank2, chat)).toEqual([after]), 10_000);
    expect(noticed).toEqual([]);
  }, 60_000);

  it('rate-limits bundle fetches per requester and target device', async () => {
    const fetcher = await clients.signedIn();
    const other = await clients.signedIn();
    const fetch = (c: ParleyClient) =>
      http(server.api, 'GET', `/keys/${bob1.userId}/${bob1.deviceId}`, {
        token: c.session!.accessToken,
      });
    for (let i = 0; i < 6; i++) expect((await fetch(fetcher)).status).toBe(200);
    const limited = await fetch(fetcher);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    // Another requester has its own allowance.
    expect((await fetch(other)).status).toBe(200);
  }, 30_000);

  it('leaves no plaintext in any table or in the server log', async () => {
    clients.closeAll();
    await server.stop();
    const log = server.output();
    // The log is really there: it has the trace of the requests made above.
    expect(log).toContain('/api/v1/keys');
    const rows = await allRows(database ? { databaseUrl: database.url } : { dataDir });
    expect(rows.get('message_envelopes')?.length).toBeGreaterThan(0);
    expect(rows.get('one_time_pre_keys')).toBeDefined();
    const everything = [...rows.values()].flat().join('\n');
    expect(secrets.length).toBeGreaterThan(5);
    for (const text of secrets) {
      expect(everything).not.toContain(text);
      expect(log).not.toContain(text);
    }
  }, 60_000);
});
