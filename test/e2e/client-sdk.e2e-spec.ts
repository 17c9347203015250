import {
  INBOUND_EVENT_NAMES,
  MemorySessionStore,
  ParleyClient,
  ParleyError,
  type ErrorBody as WireErrorBody,
  type Message,
  type ServerEventMap,
} from '@parley/client';
import type { ErrorBody } from '../../src/common/errors';
import { SocketEventRegistry } from '../../src/common/realtime/socket-event.registry';
import type { ServerToClientEvents } from '../../src/common/realtime/socket-events';
import { png } from '../fixtures/media-files';
import { uniquePhone } from '../utils/clients';
import { sdkClients } from '../utils/sdk-clients';
import { startTestApp, type TestApp } from '../utils/test-app';
import { eventually } from '../utils/wait';

// The declared contract and the server's own types must describe the same shapes: this
// file does not compile when either side drifts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const serverEventsMatch: Same<ServerToClientEvents, ServerEventMap> = true;
const errorBodiesMatch: Same<ErrorBody, WireErrorBody> = true;

let t: TestApp;
const clients = sdkClients(() => t);

beforeAll(async () => {
  t = await startTestApp({ env: { PRESENCE_GRACE_MS: '200' } });
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await t.close();
});

/** Every message a client reports, by source. */
function messagesOf(client: ParleyClient) {
  const seen: Array<{ message: Message; source: string }> = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

describe('wire contract', () => {
  it('declares exactly the inbound events the server handles', () => {
    expect(serverEventsMatch && errorBodiesMatch).toBe(true);
    const registered = t.app.get(SocketEventRegistry).events;
    expect([...registered].sort()).toEqual([...INBOUND_EVENT_NAMES].sort());
  });
});

describe('client SDK against the server', () => {
  it('signs in, chats 1:1 and turns acks into receipts for the sender', async () => {
    const alice = await clients.online();
    const bob = await clients.online();
    expect(alice.session?.isNewUser).toBe(true);
    await alice.api.updateMe({ displayName: 'Alice' });
    const bobMessages = messagesOf(bob);

    const delivered = alice.next('receipt', (r) => r.status === 'delivered');
    const sent = await alice.send({ recipientId: bob.session!.userId, type: 'text', body: 'hi' });
    expect(sent).toMatchObject({ seq: 1, body: 'hi', senderId: alice.session!.userId });

    // Bob's client acks delivered by itself as the message arrives.
    await eventually(() => expect(bobMessages.map((m) => m.source)).toEqual(['live']));
    expect(await delivered).toMatchObject({ userId: bob.session!.userId, seq: 1 });

    const read = alice.next('receipt', (r) => r.status === 'read');
    await bob.markRead(sent.conversationId, sent.seq);
    expect(await read).toMatchObject({ conversationId: sent.conversationId, seq: 1 });
    const [conversation] = await bob.api.conversations();
    expect(conversation).toMatchObject({ name: 'Alice', unreadCount: 0, lastSeq: 1 });
  });

  it('refuses bad input with the protocol error code and keeps the connection', async () => {
    const alice = await clients.online();
    const error = await alice
      .send({ recipientId: 'not-a-uuid', type: 'text', body: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(alice.pending).toHaveLength(0);
    expect(alice.connectionState).toBe('connected');
    await expect(alice.api.group('0190d7a0-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
  });

  it('queues sends while offline, syncs on reconnect and reports each message once', async () => {
    const alice = await clients.online();
    const bob = await clients.online();
    const bobMessages = messagesOf(bob);
    const first = await alice.send({ recipientId: bob.session!.userId, type: 'text', body: '1' });
    await eventually(() => expect(bobMessages).toHaveLength(1));

    bob.disconnect();
    await alice.send({ conversationId: first.conversationId, type: 'text', body: '2' });
    await alice.send({ conversationId: first.conversationId, type: 'text', body: '3' });

    alice.disconnect();
    const queued = alice.send({ conversationId: first.conversationId, type: 'text', body: '4' });
    expect(alice.pending.map((p) => p.payload.body)).toEqual(['4']);
    await alice.connect();
    expect((await queued).seq).toBe(4);
    expect(alice.pending).toHaveLength(0);

    const synced = bob.next('synced');
    await bob.connect();
    expect(await synced).toEqual({ count: 3 });
    expect(bobMessages.map((m) => [m.message.body, m.source])).toEqual([
      ['1', 'live'],
      ['2', 'sync'],
      ['3', 'sync'],
      ['4', 'sync'],
    ]);
    // The delivered acks moved the device's position: a second sync offers nothing.
    const again = bob.next('synced');
    bob.disconnect();
    await bob.connect();
    expect(await again).toEqual({ count: 0 });
  });

  it('fills a gap in the seq stream from history and acks only what it has', async () => {
    const alice = await clients.online();
    const phone = uniquePhone();
    const store = new MemorySessionStore();
    const bobTab1 = await clients.online(phone, { sessionStore: store });
    const first = await alice.send({
      recipientId: bobTab1.session!.userId,
      type: 'text',
      body: '1',
    });
    await eventually(async () =>
      expect((await alice.api.receipts(first.id))[0].status).toBe('delivered'),
    );

    // A second tab on the same device session takes messages 2 and 3 and acks them, so
    // sync will not offer them to the first tab: only the seq jump at 4 shows they exist.
    bobTab1.disconnect();
    const bobTab2 = new ParleyClient({ url: t.url, sessionStore: store });
    await bobTab2.connect();
    const bobMessages = messagesOf(bobTab1);
    await alice.send({ conversationId: first.conversationId, type: 'text', body: '2' });
    await alice.send({ conversationId: first.conversationId, type: 'text', body: '3' });
    await eventually(async () =>
      expect((await bobTab2.api.conversation(first.conversationId)).deliveredSeq).toBe(3),
    );
    bobTab2.disconnect();

    await bobTab1.connect();
    const gap = bobTab1.next('gap');
    await alice.send({ conversationId: first.conversationId, type: 'text', body: '4' });
    expect(await gap).toEqual({ conversationId: first.conversationId, afterSeq: 1, toSeq: 4 });
    await eventually(() =>
      expect(bobMessages.map((m) => [m.message.seq, m.source])).toEqual([
        [4, 'live'],
        [2, 'gap'],
        [3, 'gap'],
      ]),
    );
  });

  it('runs a group of three: create, fan out, add and remove members', async () => {
    const [alice, bob, carol, dave] = await Promise.all([
      clients.online(),
      clients.online(),
      clients.online(),
      clients.online(),
    ]);
    const group = await alice.api.createGroup({
      name: 'Trip',
      memberIds: [bob.session!.userId, carol.session!.userId],
    });
    expect(group).toMatchObject({ memberCount: 3, notAdded: [] });

    const atBob = bob.next('message', (m) => m.message.body === 'hello all');
    const atCarol = carol.next('message', (m) => m.message.body === 'hello all');
    await alice.send({ conversationId: group.id, type: 'text', body: 'hello all' });
    await Promise.all([atBob, atCarol]);

    await alice.api.addMembers(group.id, [dave.session!.userId]);
    await alice.api.removeMember(group.id, carol.session!.userId);
    const members = (await alice.api.group(group.id)).members.map((m) => m.userId).sort();
    expect(members).toEqual(
      [alice.session!.userId, bob.session!.userId, dave.session!.userId].sort(),
    );
    await expect(
      carol.send({ conversationId: group.id, type: 'text', body: 'still here?' }),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });

    const page = await dave.api.history(group.id);
    expect(page.messages.map((m) => m.type)).toContain('system');
  });

  it('watches presence and relays typing', async () => {
    const alice = await clients.online();
    const bob = await clients.online();
    const first = await alice.send({ recipientId: bob.session!.userId, type: 'text', body: 'hey' });

    // Bob's connection may still be on its way to presence (through Redis) at first.
    await eventually(async () =>
      expect((await alice.api.presence(bob.session!.userId)).online).toBe(true),
    );
    const [state] = await alice.watchPresence([bob.session!.userId]);
    expect(state).toMatchObject({ userId: bob.session!.userId, online: true });
    const offline = alice.next('presence', (p) => p.online === false, 15_000);
    const typing = alice.next('typing');
    await bob.typing(first.conversationId, true);
    expect(await typing).toMatchObject({ userId: bob.session!.userId, isTyping: true });
    bob.disconnect();
    expect((await offline).lastSeen).toEqual(expect.any(String));
  });

  it('uploads an image, sends it, and the recipient fetches its thumbnail', async () => {
    const alice = await clients.online();
    const bob = await clients.online();
    const progress: number[] = [];
    const bytes = await png();
    const media = await alice.api.upload(new Blob([new Uint8Array(bytes)], { type: 'image/png' }), {
      fileName: 'photo.png',
      onProgress: (f) => progress.push(f),
    });
    expect(media).toMatchObject({ kind: 'image', mimeType: 'image/png' });
    expect(progress.at(-1)).toBe(1);

    const atBob = bob.next('message', (m) => m.message.type === 'image');
    await alice.send({ recipientId: bob.session!.userId, type: 'image', mediaId: media.mediaId });
    expect((await atBob).message.mediaId).toBe(media.mediaId);

    let thumbnailUrl: string | undefined;
    await eventually(async () => {
      thumbnailUrl = (await bob.api.mediaInfo(media.mediaId)).thumbnailUrl;
      expect(thumbnailUrl).toEqual(expect.any(String));
    }, 15_000);
    const thumbnail = await bob.api.blob(thumbnailUrl!);
    expect(thumbnail.size).toBeGreaterThan(0);
  });

  it('lists devices, removes one, and the removed device is signed out', async () => {
    const phone = uniquePhone();
    const laptop = await clients.online(phone);
    const phoneDevice = await clients.online(phone);
    const devices = await laptop.api.devices();
    expect(devices).toHaveLength(2);
    expect(devices.find((d) => d.current)?.id).toBe(laptop.session!.deviceId);

    const signedOut = phoneDevice.next('session', (s) => s === null);
    await laptop.api.removeDevice(phoneDevice.session!.deviceId);
    await signedOut;
    expect(phoneDevice.connectionState).toBe('disconnected');
    expect(await laptop.api.devices()).toHaveLength(1);
  });
});
