import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { Db } from '../../src/common/database/db';
import { connect, request, signIn, sleep, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

const GROUP_SIZE = 1024;
const CONNECTED = 300;
const BATCH = 50;

/** Runs fn over items in parallel batches, keeping the order of the results. */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  }
  return out;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return;
    await sleep(20);
  }
}

describe('group fan-out (e2e)', () => {
  let t: TestApp;
  let users: Session[] = [];
  let groupId: string;
  const sockets: Socket[] = [];

  const api = (s: Session, method: string, path: string, body?: unknown) =>
    http(t.api, method, path, { token: s.accessToken, body });

  const createGroup = async (creator: Session, members: Session[], name: string) => {
    const res = await api(creator, 'POST', '/groups', {
      name,
      memberIds: members.map((m) => m.userId),
    });
    if (res.status !== 201)
      throw new Error(`group creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; memberCount: number };
  };

  const open = async (s: Session): Promise<Socket> => {
    const socket = await connect(t, s.accessToken, 15_000);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    // Push decisions run PUSH_DELAY_MS after a send and would land inside the statement
    // counts below; pushed far out, the counts show the send path alone.
    t = await startTestApp({ env: { PUSH_DELAY_MS: '600000' } });
    users = await inBatches(
      Array.from({ length: GROUP_SIZE }, () => null),
      BATCH,
      () => signIn(t),
    );
    // Every sign-in must be a new user, or the counts below would mean nothing.
    expect(new Set(users.map((u) => u.userId)).size).toBe(GROUP_SIZE);
    const [creator, ...others] = users;
    const group = await createGroup(creator, others, 'Everyone');
    expect(group.memberCount).toBe(GROUP_SIZE);
    groupId = group.id;
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t?.close();
  });

  it('delivers one message live to every connected member, and through sync to every offline one', async () => {
    const sender = users[0];
    const online = users.slice(1, CONNECTED + 1);
    const offline = users.slice(CONNECTED + 1);
    expect(offline).toHaveLength(GROUP_SIZE - CONNECTED - 1);

    const senderSocket = await open(sender);
    const onlineSockets = await inBatches(online, BATCH, (u) => open(u));
    const received = new Map<Socket, string[]>();
    for (const socket of [senderSocket, ...onlineSockets]) {
      const ids: string[] = [];
      received.set(socket, ids);
      socket.on('message:new', (m: { id: string }) => ids.push(m.id));
    }

    const ack = await request(senderSocket, 'message:send', {
      clientMsgId: randomUUID(),
      conversationId: groupId,
      type: 'text',
      body: 'hello, everyone',
    });
    expect(ack).toMatchObject({ ok: true, message: { conversationId: groupId, seq: 2 } });
    const messageId = ack.message.id as string;

    const deliveries = () =>
      onlineSockets.reduce(
        (n, s) => n + received.get(s)!.filter((id) => id === messageId).length,
        0,
      );
    await waitFor(() => deliveries() >= CONNECTED, 15_000);
    await sleep(300); // room for duplicates to show up
    expect(deliveries()).toBe(CONNECTED);
    for (const socket of onlineSockets)
      expect(received.get(socket)!.filter((id) => id === messageId)).toHaveLength(1);
    expect(received.get(senderSocket)).not.toContain(messageId);

    // Every offline member's device is offered the message by sync (REST), after the
    // system message announcing the group.
    const offered = await inBatches(offline, BATCH, async (u) => {
      const res = await api(u, 'GET', '/sync?limit=500');
      expect(res.status).toBe(200);
      const mine = (res.body.messages as Array<{ id: string; conversationId: string; seq: number }>)
        .filter((m) => m.conversationId === groupId)
        .map((m) => [m.seq, m.id]);
      return mine.length === 2 && mine[1][0] === 2 && mine[1][1] === messageId;
    });
    expect(offered.filter(Boolean)).toHaveLength(offline.length);

    // A sample connects later and catches up over Socket.IO: the same two messages in seq
    // order, and nothing more once acked.
    const sample = offline.filter((_, i) => i % Math.floor(offline.length / 50) === 0).slice(0, 50);
    expect(sample).toHaveLength(50);
    await inBatches(sample, BATCH, async (u) => {
      const socket = await open(u);
      const first = await request(socket, 'sync', { limit: 500 });
      expect(first.ok).toBe(true);
      expect(first.hasMore).toBe(false);
      const mine = (
        first.messages as Array<{ id: string; conversationId: string; seq: number; type: string }>
      ).filter((m) => m.conversationId === groupId);
      expect(mine.map((m) => [m.seq, m.type])).toEqual([
        [1, 'system'],
        [2, 'text'],
      ]);
      expect(mine[1].id).toBe(messageId);
      expect(
        await request(socket, 'message:ack', {
          conversationId: groupId,
          seq: 2,
          status: 'delivered',
        }),
      ).toEqual({ ok: true });
      const again = await request(socket, 'sync', { limit: 500 });
      expect(again).toEqual({ ok: true, messages: [], hasMore: false });
    });
  }, 90_000);

  it('costs the same small number of SQL statements per send, edit, reaction and delete, whatever the group size', async () => {
    const db = t.app.get(Db, { strict: false });
    const sender = users[0];
    const socket = sockets[0] ?? (await open(sender));
    const small = await createGroup(sender, users.slice(1, 2), 'Two');
    const medium = await createGroup(sender, users.slice(1, 100), 'Hundred');
    expect(small.memberCount).toBe(2);
    expect(medium.memberCount).toBe(100);
    const direct = await api(sender, 'POST', '/conversations/direct', { userId: users[1].userId });
    expect(direct.status).toBe(200);

    /** Statements one message:send costs, the same three times over (steady state). */
    const measure = async (payloads: Array<Record<string, unknown>>): Promise<number> => {
      const counts: number[] = [];
      for (const payload of payloads) {
        const before = db.statementCount;
        const ack = await request(socket, 'message:send', {
          clientMsgId: randomUUID(),
          ...payload,
        });
        counts.push(db.statementCount - before);
        expect(ack).toMatchObject({ ok: true });
      }
      // The same path costs the same every time.
      expect(new Set(counts).size).toBe(1);
      return counts[0];
    };

    const statementsPerKind = async (conversationId: string, members: Session[]) => {
      // The first send may load the member list into the cache; measure the steady state.
      const warm = await request(socket, 'message:send', {
        clientMsgId: randomUUID(),
        conversationId,
        type: 'text',
        body: 'warm-up',
      });
      expect(warm.ok).toBe(true);
      const targets: string[] = [];
      const send = await measure(
        [0, 1, 2].map((i) => ({ conversationId, type: 'text', body: `count ${i}` })),
      );
      for (let i = 0; i < 3; i++) {
        const ack = await request(socket, 'message:send', {
          clientMsgId: randomUUID(),
          conversationId,
          type: 'text',
          body: `target ${i}`,
        });
        targets.push(ack.message.id as string);
      }
      const edit = await measure(
        targets.map((targetId) => ({ conversationId, type: 'edit', targetId, body: 'edited' })),
      );
      const reaction = await measure(
        targets.map((targetId) => ({ conversationId, type: 'reaction', targetId, body: '👍' })),
      );
      const del = await measure(
        targets.map((targetId) => ({ conversationId, type: 'delete', targetId })),
      );
      // End-to-end: one envelope per device of every member but the sending one.
      const envelopes = members
        .filter((m) => m.deviceId !== sender.deviceId)
        .map((m) => ({ deviceId: m.deviceId, body: `ciphertext for ${m.deviceId}` }));
      const envelope = await measure(
        [0, 1, 2].map(() => ({ conversationId, type: 'text', envelopes })),
      );
      return { send, edit, reaction, delete: del, envelope };
    };

    const measured = {
      group2: await statementsPerKind(small.id, users.slice(0, 2)),
      group100: await statementsPerKind(medium.id, users.slice(0, 100)),
      group1024: await statementsPerKind(groupId, users),
      direct: await statementsPerKind(direct.body.id as string, users.slice(0, 2)),
    };
    console.log(`SQL statements per message:send: ${JSON.stringify(measured)}`);

    expect(measured.group100).toEqual(measured.group2);
    expect(measured.group1024).toEqual(measured.group2);
    for (const kind of ['send', 'edit', 'reaction', 'delete'] as const) {
      expect(measured.group2[kind]).toBeLessThanOrEqual(12);
      expect(measured.direct[kind]).toBeLessThanOrEqual(12);
    }
    // Envelopes cost two statements more than a plain send (the members' devices, and
    // every envelope in one insert), whatever the number of devices.
    expect(measured.group2.envelope).toBe(measured.group2.send + 2);
    expect(measured.direct.envelope).toBe(measured.direct.send + 2);
  }, 60_000);
});
