import { randomUUID } from 'node:crypto';
import { collect, nextEvent, request, sleep } from '../utils/clients';
import { clientsOf, errorAck, eventually, type Message, type Receipt } from '../utils/chat-clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

const MESSAGE_KEYS = [
  'body',
  'clientMsgId',
  'conversationId',
  'createdAt',
  'deletedAt',
  'editedAt',
  'id',
  'mediaId',
  'replyToId',
  'senderDeviceId',
  'senderId',
  'seq',
  'type',
];

const CONVERSATION_KEYS = [
  'createdAt',
  'deliveredSeq',
  'id',
  'lastMessage',
  'lastSeq',
  'left',
  'mutedUntil',
  'memberCount',
  'name',
  'peerDeliveredSeq',
  'peerId',
  'peerReadSeq',
  'readSeq',
  'type',
  'unreadCount',
];

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('messaging (e2e)', () => {
  let t: TestApp;
  const c = clientsOf(() => t);
  const {
    user,
    device,
    open,
    direct,
    trySend,
    send,
    sendMany,
    post,
    ack,
    putStatus,
    sync,
    drain,
    history,
    conversations,
    conversation,
    receipts,
  } = c;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(() => c.closeAll());
  afterAll(async () => {
    await t.close();
  });

  describe('live delivery', () => {
    it('reaches every device of the recipient and the sender’s other devices, not the sending socket', async () => {
      const alice = await user();
      const alice2 = await device(alice);
      const bob = await user();
      const bob2 = await device(bob);
      const [a1, a2, b1, b2] = await Promise.all([alice, alice2, bob, bob2].map(open));
      const seen = [a1, a2, b1, b2].map((s) => collect<Message>(s, 'message:new'));

      const clientMsgId = randomUUID();
      const before = Date.now();
      const res = await request(a1, 'message:send', {
        clientMsgId,
        recipientId: bob.userId,
        type: 'text',
        body: 'hello bob',
      });
      expect(res.ok).toBe(true);
      const message = res.message as Message;
      expect(Object.keys(message).sort()).toEqual(expect.arrayContaining(MESSAGE_KEYS));
      expect(message).toMatchObject({
        seq: 1,
        senderId: alice.userId,
        senderDeviceId: alice.deviceId,
        clientMsgId,
        type: 'text',
        body: 'hello bob',
        mediaId: null,
        replyToId: null,
        editedAt: null,
        deletedAt: null,
      });
      expect(Math.abs(Date.parse(message.createdAt) - before)).toBeLessThan(10_000);

      await eventually(() => {
        for (const i of [1, 2, 3]) expect(seen[i].items).toHaveLength(1);
      });
      for (const i of [1, 2, 3]) expect(seen[i].items[0]).toEqual(message);
      await sleep(300);
      expect(seen[0].items).toEqual([]);
      for (const i of [1, 2, 3]) expect(seen[i].items).toHaveLength(1);

      // A reply over the conversation id reaches alice's two devices and bob's other one.
      const reply = await send(b1, { conversationId: message.conversationId, body: 'hi alice' });
      expect(reply.seq).toBe(2);
      await eventually(() => {
        for (const i of [0, 1, 3]) expect(seen[i].items.map((m) => m.id)).toContain(reply.id);
      });
      await sleep(200);
      expect(seen[2].items).toHaveLength(1);
    });

    it('sends over REST too: 201 with the message, fanned out to every socket of both users', async () => {
      const alice = await user();
      const bob = await user();
      const [a1, b1] = await Promise.all([alice, bob].map(open));
      const toA = nextEvent<Message>(a1, 'message:new');
      const toB = nextEvent<Message>(b1, 'message:new');
      const res = await post(alice, { recipientId: bob.userId, body: 'over rest' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ seq: 1, senderId: alice.userId, body: 'over rest' });
      expect(await toA).toEqual(res.body);
      expect(await toB).toEqual(res.body);
    });
  });

  describe('offline delivery and sync', () => {
    it('offers 3,000 offline messages in batches, each seq exactly once and in order', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const a1 = await open(alice);
      const bodies = range(1, 3000).map((i) => `offline ${i}`);
      const sent = await sendMany(a1, conversationId, bodies, 500);
      expect(sent.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(1, 3000));
      const seqOf = new Map(sent.map((m) => [m.body, m.seq]));

      // The sending device is never offered its own messages.
      expect(await sync(a1)).toEqual({ ok: true, messages: [], hasMore: false });

      const b1 = await open(bob);
      const first = await sync(b1);
      expect(first.ok).toBe(true);
      expect(first.hasMore).toBe(true);
      expect(first.messages.map((m) => m.seq)).toEqual(range(1, 100));
      // Without an ack, the same batch is offered again.
      expect((await sync(b1)).messages.map((m) => m.id)).toEqual(first.messages.map((m) => m.id));
      expect(await ack(b1, conversationId, 100, 'delivered')).toEqual({ ok: true });

      const batches: number[] = [];
      const received: Message[] = [...first.messages];
      for (;;) {
        const page = await sync(b1, { limit: 100_000 });
        expect(page.ok).toBe(true);
        batches.push(page.messages.length);
        received.push(...page.messages);
        const last = page.messages[page.messages.length - 1];
        if (last)
          expect(await ack(b1, conversationId, last.seq, 'delivered')).toEqual({ ok: true });
        if (!page.hasMore) break;
      }
      // Limits over 500 are capped at 500.
      expect(batches).toEqual([500, 500, 500, 500, 500, 400]);
      expect(received.map((m) => m.seq)).toEqual(range(1, 3000));
      for (const m of received) {
        expect(m.conversationId).toBe(conversationId);
        expect(seqOf.get(m.body)).toBe(m.seq);
      }
      expect(new Set(received.map((m) => m.id)).size).toBe(3000);
      expect(await sync(b1)).toEqual({ ok: true, messages: [], hasMore: false });
    });

    it('loses nothing when a device disconnects in the middle of a sync', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const a1 = await open(alice);
      await sendMany(
        a1,
        conversationId,
        range(1, 30).map((i) => `m${i}`),
        1,
      );

      let b1 = await open(bob);
      const batch = await sync(b1, { limit: 10 });
      expect(batch.messages.map((m) => m.seq)).toEqual(range(1, 10));
      expect(batch.hasMore).toBe(true);
      b1.close();

      // Reconnect: the un-acked batch is offered again.
      b1 = await open(bob);
      const again = await sync(b1, { limit: 10 });
      expect(again.messages).toEqual(batch.messages);
      // Ack only part of it, then drop again.
      expect(await ack(b1, conversationId, 6, 'delivered')).toEqual({ ok: true });
      b1.disconnect();

      b1 = await open(bob);
      const rest = await drain(b1, 7);
      expect(rest.map((m) => m.seq)).toEqual(range(7, 30));
      expect(rest.map((m) => m.body)).toEqual(range(7, 30).map((i) => `m${i}`));

      // REST sync agrees: nothing left for this device.
      const viaRest = await http(t.api, 'GET', '/sync', { token: bob.accessToken });
      expect(viaRest.status).toBe(200);
      expect(viaRest.body).toEqual({ messages: [], hasMore: false });
    });

    it('keeps a delivery position per device; the sender’s other devices sync what it sent', async () => {
      const alice = await user();
      const alice2 = await device(alice);
      const bob = await user();
      const bob2 = await device(bob);
      const conversationId = await direct(alice, bob);
      const a1 = await open(alice);
      const sent = await sendMany(a1, conversationId, ['x1', 'x2', 'x3'], 1);

      // Bob's first device acks everything; his second device is still offered all three.
      const b1 = await open(bob);
      const page = await sync(b1);
      expect(page.messages.map((m) => m.id)).toEqual(sent.map((m) => m.id));
      expect(await ack(b1, conversationId, 3, 'delivered')).toEqual({ ok: true });
      expect(await sync(b1)).toEqual({ ok: true, messages: [], hasMore: false });

      const fromRest = await http(t.api, 'GET', '/sync?limit=2', { token: bob2.accessToken });
      expect(fromRest.status).toBe(200);
      expect(fromRest.body.messages.map((m: Message) => m.seq)).toEqual([1, 2]);
      expect(fromRest.body.hasMore).toBe(true);
      const b2 = await open(bob2);
      expect((await drain(b2)).map((m) => m.seq)).toEqual([1, 2, 3]);

      // Alice's other device gets her messages; the device that sent them does not.
      const a2 = await open(alice2);
      expect((await drain(a2)).map((m) => m.id)).toEqual(sent.map((m) => m.id));
      expect(await sync(a1)).toEqual({ ok: true, messages: [], hasMore: false });

      // A read ack moves the acking device's position too.
      const bob3 = await device(bob);
      const b3 = await open(bob3);
      const more = await send(a1, { conversationId, body: 'x4' });
      expect(await ack(b1, conversationId, more.seq, 'read')).toEqual({ ok: true });
      expect(await sync(b1)).toEqual({ ok: true, messages: [], hasMore: false });
      expect((await sync(b2)).messages.map((m) => m.seq)).toEqual([4]);
      // bob3 registered after the first three: it starts at seq 3 and sees only x4.
      expect((await sync(b3)).messages.map((m) => m.seq)).toEqual([4]);
    });

    it('starts a device registered later at the latest seq; older history stays readable', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const a1 = await open(alice);
      await sendMany(a1, conversationId, ['h1', 'h2', 'h3', 'h4', 'h5'], 1);

      const late = await device(bob);
      const l1 = await open(late);
      expect(await sync(l1)).toEqual({ ok: true, messages: [], hasMore: false });
      const h = await history(late, conversationId);
      expect(h.status).toBe(200);
      expect(h.body.messages.map((m) => m.body)).toEqual(['h1', 'h2', 'h3', 'h4', 'h5']);

      const next = await send(a1, { conversationId, body: 'h6' });
      expect((await sync(l1)).messages.map((m) => m.id)).toEqual([next.id]);
      // Alice's new device likewise starts at the end.
      const alice2 = await device(alice);
      expect(
        (await http(t.api, 'GET', '/sync', { token: alice2.accessToken })).body.messages,
      ).toEqual([]);
    });

    it('refuses bad sync limits with VALIDATION_FAILED and keeps the socket', async () => {
      const s = await user();
      const socket = await open(s);
      for (const limit of [0, -1, 1.5, '10', true]) {
        const res = await sync(socket, { limit });
        expect({ limit, res }).toEqual({ limit, res: errorAck('VALIDATION_FAILED') });
      }
      expect(await sync(socket, { limit: 1, extra: true })).toEqual(errorAck('VALIDATION_FAILED'));
      expect(socket.connected).toBe(true);
      expect(await sync(socket, { limit: 1 })).toEqual({ ok: true, messages: [], hasMore: false });
      for (const q of ['0', '1.5', 'abc'])
        expect(
          (await http(t.api, 'GET', `/sync?limit=${q}`, { token: s.accessToken })).body.code,
        ).toBe('VALIDATION_FAILED');
    });
  });

  describe('idempotent sends', () => {
    it('returns the original for a resend over the socket and REST, and delivers it once', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const [a1, b1] = await Promise.all([alice, bob].map(open));
      const live = collect<Message>(b1, 'message:new');
      const toSender = collect<Message>(a1, 'message:new');

      const clientMsgId = randomUUID();
      const first = await send(a1, { clientMsgId, conversationId, body: 'once' });
      const again = await send(a1, { clientMsgId, conversationId, body: 'once' });
      expect(again).toEqual(first);
      // Concurrent resends: the same answer every time.
      const burst = await Promise.all(
        range(1, 5).map(() => send(a1, { clientMsgId, conversationId, body: 'once' })),
      );
      for (const m of burst) expect(m).toEqual(first);

      const rest = await post(alice, { clientMsgId, conversationId, body: 'once' });
      expect(rest.status).toBe(200);
      expect(rest.body).toEqual(first);

      // A REST send first, then its resends.
      const restId = randomUUID();
      const created = await post(alice, {
        clientMsgId: restId,
        recipientId: bob.userId,
        body: 'r',
      });
      expect(created.status).toBe(201);
      expect(created.body.seq).toBe(2);
      const dup = await post(alice, { clientMsgId: restId, recipientId: bob.userId, body: 'r' });
      expect(dup.status).toBe(200);
      expect(dup.body).toEqual(created.body);
      expect(await send(a1, { clientMsgId: restId, conversationId, body: 'r' })).toEqual(
        created.body,
      );

      // Another user may use the same clientMsgId: it is a different message.
      const bobs = await send(b1, { clientMsgId, conversationId, body: 'mine' });
      expect(bobs.id).not.toBe(first.id);
      expect(bobs.seq).toBe(3);

      await sleep(400);
      expect(live.items.map((m) => m.id)).toEqual([first.id, created.body.id]);
      // The sending socket only heard of the REST send (once), and of bob's message.
      expect(toSender.items.map((m) => m.id)).toEqual([created.body.id, bobs.id]);
      expect((await drain(b1)).map((m) => m.id)).toEqual([first.id, created.body.id]);
      const h = await history(alice, conversationId);
      expect(h.body.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    });
  });

  describe('ordering under concurrency', () => {
    it('gives gapless unique seqs and keeps each device’s send order', async () => {
      const alice = await user();
      const alice2 = await device(alice);
      const bob = await user();
      const bob2 = await device(bob);
      const watcher = await device(bob);
      const conversationId = await direct(alice, bob);
      const senders = await Promise.all([alice, alice2, bob, bob2].map(open));
      const w = await open(watcher);
      const live = collect<Message>(w, 'message:new');

      const PER_DEVICE = 50;
      const acked = await Promise.all(
        senders.map(async (socket, d) => {
          const out: Message[] = [];
          for (let i = 0; i < PER_DEVICE; i++)
            out.push(await send(socket, { conversationId, body: `d${d}-${i}` }));
          return out;
        }),
      );
      const total = PER_DEVICE * senders.length;
      const all = acked.flat();
      expect(all.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(1, total));
      for (const list of acked) {
        for (let i = 1; i < list.length; i++) expect(list[i].seq).toBeGreaterThan(list[i - 1].seq);
      }

      // History agrees, in seq order, each device's messages in its send order.
      const older = await history(alice, conversationId, `?afterSeq=0&limit=100`);
      const newer = await history(alice, conversationId, `?afterSeq=100&limit=100`);
      const stored = [...older.body.messages, ...newer.body.messages];
      expect(stored.map((m) => m.seq)).toEqual(range(1, total));
      for (let d = 0; d < senders.length; d++) {
        expect(stored.filter((m) => m.body?.startsWith(`d${d}-`)).map((m) => m.body)).toEqual(
          range(0, PER_DEVICE - 1).map((i) => `d${d}-${i}`),
        );
      }

      // A device that only watched got every message live, once.
      await eventually(() => expect(live.items).toHaveLength(total));
      expect(live.items.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(1, total));
    });
  });

  describe('receipts', () => {
    it('moves watermarks with socket acks and tells the senders and the acker’s other devices', async () => {
      const alice = await user();
      const alice2 = await device(alice);
      const bob = await user();
      const bob2 = await device(bob);
      const conversationId = await direct(alice, bob);
      const [a1, a2, b1, b2] = await Promise.all([alice, alice2, bob, bob2].map(open));
      const got = [a1, a2, b1, b2].map((s) => collect<Receipt>(s, 'receipt'));
      const seen = (i: number) => got[i].items.map((r) => `${r.status}:${r.seq}`);

      const m1 = await send(a1, { conversationId, body: 'one' });
      expect(await receipts(alice, m1.id)).toEqual([
        { userId: bob.userId, status: 'sent', at: m1.createdAt },
      ]);

      // delivered 1
      const t1 = nextEvent<Receipt>(a1, 'receipt');
      expect(await ack(b1, conversationId, 1, 'delivered')).toEqual({ ok: true });
      const r1 = await t1;
      expect(r1).toEqual({
        conversationId,
        userId: bob.userId,
        status: 'delivered',
        seq: 1,
        at: expect.any(String),
      });
      expect(Math.abs(Date.parse(r1.at) - Date.now())).toBeLessThan(10_000);
      await eventually(() => {
        expect(seen(1)).toEqual(['delivered:1']);
        expect(seen(3)).toEqual(['delivered:1']);
      });
      expect(got[1].items[0]).toEqual(r1);
      expect(got[3].items[0]).toEqual(r1);

      await sleep(30);
      const m2 = await send(a1, { conversationId, body: 'two' });
      // delivered 2, later than delivered 1
      const t2 = nextEvent<Receipt>(a1, 'receipt');
      expect(await ack(b1, conversationId, 2, 'delivered')).toEqual({ ok: true });
      const r2 = await t2;
      expect(r2).toMatchObject({ status: 'delivered', seq: 2 });
      expect(Date.parse(r2.at)).toBeGreaterThan(Date.parse(r1.at));
      expect(await receipts(alice, m1.id)).toEqual([
        { userId: bob.userId, status: 'delivered', at: r1.at },
      ]);
      expect(await receipts(alice, m2.id)).toEqual([
        { userId: bob.userId, status: 'delivered', at: r2.at },
      ]);

      // read 1
      await sleep(30);
      const t3 = nextEvent<Receipt>(a1, 'receipt');
      expect(await ack(b1, conversationId, 1, 'read')).toEqual({ ok: true });
      const r3 = await t3;
      expect(r3).toMatchObject({ userId: bob.userId, status: 'read', seq: 1 });
      expect(await receipts(alice, m1.id)).toEqual([
        { userId: bob.userId, status: 'read', at: r3.at },
      ]);
      expect(await receipts(alice, m2.id)).toEqual([
        { userId: bob.userId, status: 'delivered', at: r2.at },
      ]);

      // Acks that would move backwards change nothing and send nothing.
      expect(await ack(b1, conversationId, 1, 'delivered')).toEqual({ ok: true });
      expect(await ack(b2, conversationId, 0, 'read')).toEqual({ ok: true });
      expect(await ack(b1, conversationId, 1, 'read')).toEqual({ ok: true });
      await sleep(300);
      const bobView = await conversation(bob, conversationId);
      expect(bobView).toMatchObject({ deliveredSeq: 2, readSeq: 1, unreadCount: 1 });
      expect(await conversation(alice, conversationId)).toMatchObject({
        peerDeliveredSeq: 2,
        peerReadSeq: 1,
        deliveredSeq: 0,
        readSeq: 0,
        unreadCount: 0,
      });

      // A seq above the last one is clamped.
      const t4 = nextEvent<Receipt>(a1, 'receipt');
      expect(await ack(b1, conversationId, 999, 'read')).toEqual({ ok: true });
      expect(await t4).toMatchObject({ status: 'read', seq: 2 });
      expect(await conversation(bob, conversationId)).toMatchObject({
        deliveredSeq: 2,
        readSeq: 2,
        unreadCount: 0,
      });

      // REST: PUT /messages/{id}/status, read implies delivered.
      const m3 = await send(a1, { conversationId, body: 'three' });
      const readOf3 = nextEvent<Receipt>(a1, 'receipt', (r) => r.status === 'read');
      const res = await putStatus(bob, m3.id, 'read');
      expect(res.status).toBe(204);
      const r5 = await readOf3;
      expect(r5).toMatchObject({ userId: bob.userId, seq: 3 });
      expect(await receipts(alice, m3.id)).toEqual([
        { userId: bob.userId, status: 'read', at: r5.at },
      ]);
      expect(await conversation(bob, conversationId)).toMatchObject({
        deliveredSeq: 3,
        readSeq: 3,
      });

      // Bob acks a range holding his own message: alice gets it, and bob's other device.
      const own = await send(b1, { conversationId, body: 'from bob' });
      const m5 = await send(a1, { conversationId, body: 'five' });
      const delivered5 = nextEvent<Receipt>(a1, 'receipt', (r) => r.seq === m5.seq);
      expect(await ack(b2, conversationId, m5.seq, 'delivered')).toEqual({ ok: true });
      expect(await delivered5).toMatchObject({ userId: bob.userId, status: 'delivered' });
      expect(own.seq).toBe(4);
      // The receipts list covers every member but the sender.
      expect(await receipts(bob, own.id)).toEqual([
        { userId: alice.userId, status: 'sent', at: own.createdAt },
      ]);

      await eventually(() => {
        const expected = [
          'delivered:1',
          'delivered:2',
          'read:1',
          'read:2',
          'delivered:3',
          'read:3',
          'delivered:5',
        ];
        expect(seen(0)).toEqual(expected);
        expect(seen(1)).toEqual(expected);
        // bob's devices: each gets the acks of the other; REST acks reach both.
        expect(seen(2)).toEqual(['delivered:3', 'read:3', 'delivered:5']);
        expect(seen(3)).toEqual([
          'delivered:1',
          'delivered:2',
          'read:1',
          'read:2',
          'delivered:3',
          'read:3',
        ]);
      });
      await sleep(300);
      expect(seen(0)).toHaveLength(7);
      expect(seen(3)).toHaveLength(6);
    });

    it('refuses bad acks with the right codes and keeps the socket', async () => {
      const alice = await user();
      const bob = await user();
      const carol = await user();
      const conversationId = await direct(alice, bob);
      const other = await direct(bob, carol);
      const a1 = await open(alice);
      const m = await send(a1, { conversationId, body: 'x' });
      for (const bad of [
        { conversationId, seq: 1, status: 'seen' },
        { conversationId, seq: -1, status: 'read' },
        { conversationId, seq: 1.5, status: 'read' },
        { conversationId: 'nope', seq: 1, status: 'read' },
        { seq: 1, status: 'read' },
      ]) {
        expect(await request(a1, 'message:ack', bad)).toEqual(errorAck('VALIDATION_FAILED'));
      }
      expect(await ack(a1, randomUUID(), 1, 'read')).toEqual(errorAck('NOT_FOUND'));
      expect(await ack(a1, other, 1, 'read')).toEqual(errorAck('NOT_A_MEMBER'));
      expect(a1.connected).toBe(true);

      expect((await putStatus(bob, m.id, 'seen')).body.code).toBe('VALIDATION_FAILED');
      expect((await putStatus(bob, randomUUID(), 'read')).status).toBe(404);
      expect((await putStatus(bob, 'not-a-uuid', 'read')).status).toBe(400);
      const outsider = await putStatus(carol, m.id, 'read');
      expect(outsider.status).toBe(403);
      expect(outsider.body.code).toBe('NOT_A_MEMBER');
      const foreign = await http(t.api, 'GET', `/messages/${m.id}/receipts`, {
        token: carol.accessToken,
      });
      expect(foreign.status).toBe(403);
      expect(foreign.body.code).toBe('NOT_A_MEMBER');
      expect(
        (await http(t.api, 'GET', `/messages/${randomUUID()}/receipts`, { token: bob.accessToken }))
          .status,
      ).toBe(404);
    });

    it('with read receipts off, a user neither sends nor sees read receipts', async () => {
      const carol = await user();
      const carol2 = await device(carol);
      const dave = await user();
      const privacy = await http(t.api, 'PUT', '/users/me/privacy', {
        token: carol.accessToken,
        body: { lastSeen: 'everyone', readReceipts: false },
      });
      expect(privacy.status).toBe(200);
      const conversationId = await direct(dave, carol);
      const [d1, c1, c2] = await Promise.all([dave, carol, carol2].map(open));
      const toDave = collect<Receipt>(d1, 'receipt');
      const toCarol = collect<Receipt>(c1, 'receipt');
      const toCarol2 = collect<Receipt>(c2, 'receipt');

      // Carol reads dave's message: dave learns it was delivered, never that it was read.
      const m1 = await send(d1, { conversationId, body: 'for carol' });
      expect(await ack(c1, conversationId, 1, 'read')).toEqual({ ok: true });
      await eventually(() =>
        expect(toDave.items.map((r) => `${r.status}:${r.seq}`)).toEqual(['delivered:1']),
      );
      // Her own other device still learns that she read it.
      await eventually(() =>
        expect(toCarol2.items.map((r) => `${r.status}:${r.seq}`)).toEqual([
          'delivered:1',
          'read:1',
        ]),
      );
      expect((await receipts(dave, m1.id))[0]).toMatchObject({
        userId: carol.userId,
        status: 'delivered',
      });
      expect(await conversation(carol, conversationId)).toMatchObject({
        readSeq: 1,
        deliveredSeq: 1,
        unreadCount: 0,
      });
      expect(await conversation(dave, conversationId)).toMatchObject({
        peerDeliveredSeq: 1,
        peerReadSeq: 0,
      });

      // Dave reads carol's message: carol gets the delivered receipt only.
      const m2 = await send(c1, { conversationId, body: 'for dave' });
      expect(await ack(d1, conversationId, 2, 'read')).toEqual({ ok: true });
      await eventually(() =>
        expect(toCarol.items.map((r) => `${r.status}:${r.seq}`)).toEqual(['delivered:2']),
      );
      expect((await receipts(carol, m2.id))[0]).toMatchObject({
        userId: dave.userId,
        status: 'delivered',
      });
      expect(await conversation(dave, conversationId)).toMatchObject({
        readSeq: 2,
        unreadCount: 0,
      });
      expect(await conversation(carol, conversationId)).toMatchObject({
        peerDeliveredSeq: 2,
        peerReadSeq: 0,
      });

      await sleep(300);
      expect(toDave.items.filter((r) => r.status === 'read')).toEqual([]);
      expect(toCarol.items.filter((r) => r.status === 'read')).toEqual([]);
    });
  });

  describe('blocking', () => {
    it('accepts messages to a blocker but never delivers them; unblocking delivers new ones', async () => {
      const alice = await user();
      const alice2 = await device(alice);
      const bob = await user();
      const bob2 = await device(bob);
      const conversationId = await direct(alice, bob);
      const [a1, a2, b1] = await Promise.all([alice, alice2, bob].map(open));
      const bobLive = collect<Message>(b1, 'message:new');
      const alice2Live = collect<Message>(a2, 'message:new');

      expect(
        (await http(t.api, 'POST', `/users/${alice.userId}/block`, { token: bob.accessToken }))
          .status,
      ).toBe(204);

      const hidden = await send(a1, { conversationId, body: 'you will not see this' });
      expect(hidden).toMatchObject({ seq: 1, senderId: alice.userId });
      const hiddenRest = await post(alice, { recipientId: bob.userId, body: 'nor this' });
      expect(hiddenRest.status).toBe(201);
      expect(hiddenRest.body.seq).toBe(2);

      await eventually(() => expect(alice2Live.items).toHaveLength(2));
      await sleep(300);
      expect(bobLive.items).toEqual([]);
      expect(await sync(b1)).toEqual({ ok: true, messages: [], hasMore: false });
      expect((await http(t.api, 'GET', '/sync', { token: bob2.accessToken })).body).toEqual({
        messages: [],
        hasMore: false,
      });
      expect((await history(bob, conversationId)).body).toEqual({ messages: [], hasMore: false });
      expect(await conversation(bob, conversationId)).toMatchObject({
        unreadCount: 0,
        lastMessage: null,
      });
      expect((await putStatus(bob, hidden.id, 'read')).status).toBe(404);
      expect(
        (await http(t.api, 'GET', `/messages/${hidden.id}/receipts`, { token: bob.accessToken }))
          .status,
      ).toBe(404);
      expect(await receipts(alice, hidden.id)).toEqual([
        { userId: bob.userId, status: 'sent', at: hidden.createdAt },
      ]);
      // The sender's own history and other devices are unaffected.
      expect((await history(alice, conversationId)).body.messages.map((m) => m.id)).toEqual([
        hidden.id,
        hiddenRest.body.id,
      ]);

      // The blocker can still write to the blocked user.
      const fromBob = await send(b1, { conversationId, body: 'bob speaks' });
      expect((await sync(a1)).messages.map((m) => m.id)).toEqual([fromBob.id]);

      expect(
        (await http(t.api, 'DELETE', `/users/${alice.userId}/block`, { token: bob.accessToken }))
          .status,
      ).toBe(204);
      const toBob = nextEvent<Message>(b1, 'message:new');
      const visible = await send(a1, { conversationId, body: 'after unblock' });
      expect((await toBob).id).toBe(visible.id);
      expect((await sync(b1)).messages.map((m) => m.id)).toEqual([visible.id]);
      expect((await history(bob, conversationId)).body.messages.map((m) => m.id)).toEqual([
        fromBob.id,
        visible.id,
      ]);
      expect(await conversation(bob, conversationId)).toMatchObject({
        unreadCount: 1,
        lastMessage: visible,
      });
      expect(await ack(b1, conversationId, visible.seq, 'delivered')).toEqual({ ok: true });
      expect((await receipts(alice, visible.id))[0]).toMatchObject({ status: 'delivered' });
      // The withheld ones stay unsent for good.
      expect((await receipts(alice, hidden.id))[0]).toMatchObject({ status: 'sent' });
    });
  });

  describe('errors', () => {
    it('answers every bad send with its code and keeps the socket connected', async () => {
      const alice = await user();
      const bob = await user();
      const carol = await user();
      const conversationId = await direct(alice, bob);
      const foreign = await direct(bob, carol);
      const socket = await open(alice);

      const cases: Array<[Record<string, unknown>, string]> = [
        [{ conversationId, recipientId: bob.userId, body: 'both' }, 'VALIDATION_FAILED'],
        [{ body: 'neither' }, 'VALIDATION_FAILED'],
        [{ conversationId, body: '' }, 'VALIDATION_FAILED'],
        [{ conversationId }, 'VALIDATION_FAILED'],
        [{ conversationId, body: 'x', type: 'system' }, 'VALIDATION_FAILED'],
        [{ conversationId, body: 'x', type: 'sticker' }, 'VALIDATION_FAILED'],
        [{ conversationId, body: 42 }, 'VALIDATION_FAILED'],
        [{ conversationId, body: 'x', clientMsgId: '' }, 'VALIDATION_FAILED'],
        [{ conversationId: 'not-a-uuid', body: 'x' }, 'VALIDATION_FAILED'],
        [{ conversationId, body: 'x', unknownField: 1 }, 'VALIDATION_FAILED'],
        [{ recipientId: alice.userId, body: 'me' }, 'VALIDATION_FAILED'],
        [{ recipientId: randomUUID(), body: 'nobody' }, 'NOT_FOUND'],
        [{ conversationId: randomUUID(), body: 'nowhere' }, 'NOT_FOUND'],
        [{ conversationId: foreign, body: 'intruder' }, 'NOT_A_MEMBER'],
        [{ conversationId, body: 'a'.repeat(65_537) }, 'PAYLOAD_TOO_LARGE'],
        [{ conversationId, body: '€'.repeat(22_000) }, 'PAYLOAD_TOO_LARGE'],
      ];
      for (const [payload, code] of cases) {
        const res = await trySend(socket, payload);
        expect({ payload: Object.keys(payload), res }).toEqual({
          payload: Object.keys(payload),
          res: errorAck(code),
        });
        expect(typeof res.error.message).toBe('string');
        expect(socket.connected).toBe(true);
      }
      expect(await request(socket, 'message:send', 'not an object')).toEqual(
        errorAck('VALIDATION_FAILED'),
      );
      expect(await request(socket, 'message:send')).toEqual(errorAck('VALIDATION_FAILED'));

      // Bodies at the limit pass, multi-byte ones counted in UTF-8 bytes.
      const ascii = await send(socket, { conversationId, body: 'a'.repeat(65_536) });
      expect(ascii.body).toHaveLength(65_536);
      const euros = await send(socket, { conversationId, body: '€'.repeat(20_000) });
      expect(Buffer.byteLength(euros.body ?? '', 'utf8')).toBe(60_000);
      expect(euros.body).toBe('€'.repeat(20_000));
      expect(socket.connected).toBe(true);
      // Nothing refused took a seq.
      expect([ascii.seq, euros.seq]).toEqual([1, 2]);

      // REST answers with the same codes and statuses.
      const rest: Array<[Record<string, unknown>, number, string]> = [
        [{ conversationId, recipientId: bob.userId, body: 'both' }, 400, 'VALIDATION_FAILED'],
        [{ body: 'neither' }, 400, 'VALIDATION_FAILED'],
        [{ conversationId, body: '' }, 400, 'VALIDATION_FAILED'],
        [{ recipientId: alice.userId, body: 'me' }, 400, 'VALIDATION_FAILED'],
        [{ recipientId: randomUUID(), body: 'nobody' }, 404, 'NOT_FOUND'],
        [{ conversationId: randomUUID(), body: 'nowhere' }, 404, 'NOT_FOUND'],
        [{ conversationId: foreign, body: 'intruder' }, 403, 'NOT_A_MEMBER'],
        [{ conversationId, body: '€'.repeat(22_000) }, 413, 'PAYLOAD_TOO_LARGE'],
      ];
      for (const [body, status, code] of rest) {
        const res = await post(alice, body);
        expect({ body: Object.keys(body), status: res.status, code: res.body.code }).toEqual({
          body: Object.keys(body),
          status,
          code,
        });
      }
      const ok = await post(alice, { conversationId, body: '€'.repeat(20_000) });
      expect(ok.status).toBe(201);
      expect(ok.body.seq).toBe(3);
    });
  });

  describe('conversations', () => {
    it('lists conversations with their fields, most recent activity first', async () => {
      const alice = await user();
      const bob = await user();
      const carol = await user();
      const withBob = await direct(alice, bob);
      await sleep(5);
      const withCarol = await direct(alice, carol);
      const [a1, b1, c1] = await Promise.all([alice, bob, carol].map(open));

      let list = await conversations(alice);
      expect(list.map((x) => x.id)).toEqual([withCarol, withBob]);
      for (const item of list)
        expect(Object.keys(item).sort()).toEqual(expect.arrayContaining(CONVERSATION_KEYS));
      expect(list[1]).toEqual({
        id: withBob,
        type: 'direct',
        name: list[1].name,
        peerId: bob.userId,
        lastMessage: null,
        lastSeq: 0,
        unreadCount: 0,
        readSeq: 0,
        deliveredSeq: 0,
        peerReadSeq: 0,
        peerDeliveredSeq: 0,
        memberCount: 2,
        left: false,
        mutedUntil: null,
        disappearAfterSec: 0,
        createdAt: expect.any(String),
      });
      expect(Math.abs(Date.parse(list[1].createdAt) - Date.now())).toBeLessThan(60_000);

      await send(b1, { conversationId: withBob, body: 'b1' });
      const b2 = await send(b1, { conversationId: withBob, body: 'b2' });
      await sleep(5);
      await send(a1, { conversationId: withCarol, body: 'to carol' });
      await sleep(5);
      const fromCarol = await send(c1, { conversationId: withCarol, body: 'from carol' });

      list = await conversations(alice);
      expect(list.map((x) => x.id)).toEqual([withCarol, withBob]);
      expect(list[0]).toMatchObject({
        peerId: carol.userId,
        lastMessage: fromCarol,
        lastSeq: 2,
        unreadCount: 1,
      });
      expect(list[1]).toMatchObject({ lastMessage: b2, lastSeq: 2, unreadCount: 2 });

      await sleep(5);
      const b3 = await send(b1, { conversationId: withBob, body: 'b3' });
      list = await conversations(alice);
      expect(list.map((x) => x.id)).toEqual([withBob, withCarol]);
      expect(list[0]).toMatchObject({ lastMessage: b3, lastSeq: 3, unreadCount: 3 });

      expect((await putStatus(alice, b2.id, 'read')).status).toBe(204);
      expect(await conversation(alice, withBob)).toMatchObject({
        unreadCount: 1,
        readSeq: 2,
        deliveredSeq: 2,
      });
      expect(await conversation(bob, withBob)).toMatchObject({
        peerId: alice.userId,
        unreadCount: 0,
        peerReadSeq: 2,
        peerDeliveredSeq: 2,
        readSeq: 0,
        lastSeq: 3,
      });

      const single = await http(t.api, 'GET', `/conversations/${withBob}`, {
        token: alice.accessToken,
      });
      expect(single.status).toBe(200);
      expect(single.body).toEqual(await conversation(alice, withBob));
      expect(
        (await http(t.api, 'GET', `/conversations/${withBob}`, { token: carol.accessToken })).body
          .code,
      ).toBe('NOT_A_MEMBER');
      expect((await conversations(carol)).map((x) => x.id)).toEqual([withCarol]);
    });

    it('POST /conversations/direct is idempotent: one conversation per pair, either way round', async () => {
      const alice = await user();
      const bob = await user();
      const open1 = await http(t.api, 'POST', '/conversations/direct', {
        token: alice.accessToken,
        body: { userId: bob.userId },
      });
      expect(open1.status).toBe(200);
      expect(Object.keys(open1.body).sort()).toEqual(expect.arrayContaining(CONVERSATION_KEYS));
      expect(open1.body).toMatchObject({ type: 'direct', peerId: bob.userId, memberCount: 2 });
      const again = await http(t.api, 'POST', '/conversations/direct', {
        token: alice.accessToken,
        body: { userId: bob.userId },
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(open1.body);
      expect(await direct(bob, alice)).toBe(open1.body.id);

      const carol = await user();
      const dave = await user();
      const ids = await Promise.all([
        direct(carol, dave),
        direct(dave, carol),
        direct(carol, dave),
        direct(dave, carol),
        post(carol, { recipientId: dave.userId, body: 'hi' }).then((r) => r.body.conversationId),
      ]);
      expect(new Set(ids).size).toBe(1);
      expect((await conversations(carol)).map((x) => x.id)).toEqual([ids[0]]);

      // Sending by recipientId uses the same conversation.
      const m = await post(alice, { recipientId: bob.userId, body: 'hi' });
      expect(m.body.conversationId).toBe(open1.body.id);

      for (const [userId, status, code] of [
        [alice.userId, 400, 'VALIDATION_FAILED'],
        [randomUUID(), 404, 'NOT_FOUND'],
        ['nope', 400, 'VALIDATION_FAILED'],
      ] as const) {
        const res = await http(t.api, 'POST', '/conversations/direct', {
          token: alice.accessToken,
          body: { userId },
        });
        expect([res.status, res.body.code]).toEqual([status, code]);
      }
    });

    it('pages history in ascending seq with hasMore', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const a1 = await open(alice);
      // Sent in parallel: which body got which seq is known from the acks.
      const sent = await sendMany(
        a1,
        conversationId,
        range(1, 120).map((i) => `p${i}`),
        40,
      );
      const bodyAt = new Map(sent.map((m) => [m.seq, m.body]));
      const seqs = async (query: string) => {
        const res = await history(bob, conversationId, query);
        expect(res.status).toBe(200);
        for (const m of res.body.messages) expect(m.body).toBe(bodyAt.get(m.seq));
        return { seqs: res.body.messages.map((m) => m.seq), hasMore: res.body.hasMore };
      };
      expect(await seqs('')).toEqual({ seqs: range(71, 120), hasMore: true });
      expect(await seqs('?beforeSeq=71')).toEqual({ seqs: range(21, 70), hasMore: true });
      expect(await seqs('?beforeSeq=21')).toEqual({ seqs: range(1, 20), hasMore: false });
      expect(await seqs('?beforeSeq=1')).toEqual({ seqs: [], hasMore: false });
      expect(await seqs('?afterSeq=0&limit=100')).toEqual({ seqs: range(1, 100), hasMore: true });
      expect(await seqs('?afterSeq=100&limit=100')).toEqual({
        seqs: range(101, 120),
        hasMore: false,
      });
      expect(await seqs('?afterSeq=120')).toEqual({ seqs: [], hasMore: false });
      expect(await seqs('?limit=500')).toEqual({ seqs: range(21, 120), hasMore: true });
      expect(await seqs('?limit=10')).toEqual({ seqs: range(111, 120), hasMore: true });
      expect(await seqs('?afterSeq=10&beforeSeq=15')).toEqual({
        seqs: [11, 12, 13, 14],
        hasMore: false,
      });

      for (const q of ['?limit=0', '?limit=abc', '?beforeSeq=0', '?afterSeq=-1', '?limit=1.5']) {
        const res = await history(bob, conversationId, q);
        expect([q, res.status, res.body.code]).toEqual([q, 400, 'VALIDATION_FAILED']);
      }
      const carol = await user();
      const outsider = await history(carol, conversationId);
      expect([outsider.status, outsider.body.code]).toEqual([403, 'NOT_A_MEMBER']);
      const unknown = await history(bob, randomUUID());
      expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    });
  });
});

describe('message rate limit (e2e)', () => {
  let t: TestApp;
  const c = clientsOf(() => t);

  beforeAll(async () => {
    t = await startTestApp({ env: { MESSAGE_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterEach(() => c.closeAll());
  afterAll(async () => {
    await t.close();
  });

  it('refuses the 6th send in a minute with RATE_LIMITED, per user', async () => {
    const alice = await c.user();
    const bob = await c.user();
    const conversationId = await c.direct(alice, bob);
    const [a1, b1] = await Promise.all([alice, bob].map(c.open));
    for (let i = 1; i <= 5; i++) await c.send(a1, { conversationId, body: `ok ${i}` });

    const refused = await c.trySend(a1, { conversationId, body: 'one too many' });
    expect(refused).toEqual(errorAck('RATE_LIMITED'));
    expect(refused.error.retryAfterMs).toBeGreaterThan(0);
    expect(refused.error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(a1.connected).toBe(true);

    const rest = await c.post(alice, { conversationId, body: 'rest too' });
    expect(rest.status).toBe(429);
    expect(rest.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect((rest.body as unknown as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);

    // Another user is not affected, and nothing refused was stored.
    const fromBob = await c.send(b1, { conversationId, body: 'bob is fine' });
    expect(fromBob.seq).toBe(6);
  });
});
