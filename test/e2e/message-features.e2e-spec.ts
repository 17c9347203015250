import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { Db } from '../../src/common/database/db';
import { jpeg } from '../fixtures/media-files';
import {
  collect,
  connect,
  expectNoEvent,
  nextEvent,
  request,
  signIn,
  type Session,
} from '../utils/clients';
import { http } from '../utils/http';
import { fetchBytes, uploadMedia } from '../utils/media';
import { startTestApp, type TestApp } from '../utils/test-app';
import { eventually } from '../utils/wait';

/**
 * Delete for me, stars and disappearing messages, on real devices over Socket.IO and REST.
 *
 * Disappearing messages live for at least 24 hours, and the protocol allows no shorter
 * timer. Rather than a test-only timer, these tests let the clock "pass": after a message
 * is stored with its real expiry, the test moves that expiry into the past in its own fresh
 * database (the server's reads compare expiries with the database clock), and the real
 * purge job, run every 200 ms here (DISAPPEARING_PURGE_INTERVAL_MS), deletes it. The purge
 * query itself is covered by the MessageRepository contract suite.
 */

interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  type: string;
  body: string;
  mediaId: string | null;
  expiresAt: string | null;
}

const DAY = 86_400;

describe('Message features: delete for me, stars, disappearing messages', () => {
  let t: TestApp;
  const opened: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: { DISAPPEARING_PURGE_INTERVAL_MS: '200' } });
  });
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.close();
  });
  afterAll(async () => {
    await t.close();
  });

  const user = () => signIn(t);
  const device = (s: Session) => signIn(t, s.phone);
  const open = async (s: Session) => {
    const socket = await connect(t, s.accessToken);
    opened.push(socket);
    return socket;
  };
  const api = <T = any>(s: Session, method: string, path: string, body?: unknown) =>
    http<T>(t.api, method, path, { token: s.accessToken, body });

  const direct = async (a: Session, b: Session): Promise<string> => {
    const res = await api(a, 'POST', '/conversations/direct', { userId: b.userId });
    expect(res.status).toBe(200);
    return res.body.id as string;
  };
  const send = async (socket: Socket, payload: Record<string, unknown>): Promise<Message> => {
    const res = await request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      type: 'text',
      ...payload,
    });
    if (!res?.ok) throw new Error(`message:send failed: ${JSON.stringify(res)}`);
    return res.message as Message;
  };
  const historySeqs = async (s: Session, conversationId: string) => {
    const res = await api<{ messages: Message[] }>(
      s,
      'GET',
      `/conversations/${conversationId}/messages`,
    );
    expect(res.status).toBe(200);
    return res.body.messages.map((m) => m.seq);
  };
  /** What sync offers this device (nothing acked). */
  const syncIds = async (socket: Socket) => {
    const page = await request<{ ok: boolean; messages: Message[] }>(socket, 'sync', {});
    expect(page.ok).toBe(true);
    return page.messages.map((m) => m.id);
  };
  const conversationOf = async (s: Session, id: string) => {
    const res = await api(s, 'GET', `/conversations/${id}`);
    expect(res.status).toBe(200);
    return res.body as { disappearAfterSec: number; lastSeq: number };
  };
  const expectError = (res: { status: number; body: any }, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  };
  const db = () => t.app.get(Db, { strict: false });

  describe('delete for me', () => {
    it('hides a message on all of the user’s devices and only for them', async () => {
      const alice = await user();
      const bob = await user();
      const bob2 = await device(bob);
      const conversationId = await direct(alice, bob);
      const aliceSocket = await open(alice);
      const bobPhone = await open(bob);
      const bobLaptop = await open(bob2);
      const sent: Message[] = [];
      for (const body of ['one', 'two', 'three'])
        sent.push(await send(aliceSocket, { conversationId, body }));

      const onPhone = nextEvent(bobPhone, 'message:hidden');
      const onLaptop = nextEvent(bobLaptop, 'message:hidden');
      const aliceHears = expectNoEvent(aliceSocket, 'message:hidden', 500);
      const res = await api(bob, 'DELETE', `/messages/${sent[1].id}?scope=me`);
      expect(res.status).toBe(204);
      const expected = { conversationId, messageIds: [sent[1].id] };
      expect(await onPhone).toEqual(expected);
      expect(await onLaptop).toEqual(expected);
      expect(await aliceHears).toBe(true);

      expect(await historySeqs(bob, conversationId)).toEqual([1, 3]);
      expect(await historySeqs(bob2, conversationId)).toEqual([1, 3]);
      expect(await historySeqs(alice, conversationId)).toEqual([1, 2, 3]);
      // A device that has not synced yet is not offered it either.
      expect(await syncIds(bobLaptop)).toEqual([sent[0].id, sent[2].id]);
      // Again: nothing new, still 204.
      expect((await api(bob, 'DELETE', `/messages/${sent[1].id}?scope=me`)).status).toBe(204);
    });

    it('refuses what the user cannot read, a missing scope and other scopes, changing nothing', async () => {
      const alice = await user();
      const bob = await user();
      const eve = await user();
      const conversationId = await direct(alice, bob);
      const message = await send(await open(alice), { conversationId, body: 'private' });
      const eveSocket = await open(eve);
      const eveHears = expectNoEvent(eveSocket, 'message:hidden', 400);

      expectError(await api(eve, 'DELETE', `/messages/${message.id}?scope=me`), 404, 'NOT_FOUND');
      expectError(await api(bob, 'DELETE', `/messages/${randomUUID()}?scope=me`), 404, 'NOT_FOUND');
      expectError(await api(bob, 'DELETE', `/messages/${message.id}`), 400, 'VALIDATION_FAILED');
      expectError(
        await api(bob, 'DELETE', `/messages/${message.id}?scope=everyone`),
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        await api(bob, 'DELETE', `/messages/not-a-uuid?scope=me`),
        400,
        'VALIDATION_FAILED',
      );
      expect(await eveHears).toBe(true);
      expect(await historySeqs(bob, conversationId)).toEqual([1]);
    });
  });

  describe('stars', () => {
    it('stars on one device, tells the others, and lists newest first with a cursor', async () => {
      const alice = await user();
      const bob = await user();
      const alice2 = await device(alice);
      const conversationId = await direct(alice, bob);
      const bobSocket = await open(bob);
      const laptop = await open(alice2);
      const sent: Message[] = [];
      for (let i = 1; i <= 5; i++)
        sent.push(await send(bobSocket, { conversationId, body: `m${i}` }));

      const events = collect<{ messageId: string; starred: boolean }>(laptop, 'message:starred');
      // Starred in this order: 3, 1, 5, 2 (and 3 again, which changes nothing).
      for (const i of [2, 0, 4, 1, 2]) {
        expect((await api(alice, 'PUT', `/messages/${sent[i].id}/star`)).status).toBe(204);
      }
      await eventually(() => expect(events.items).toHaveLength(5));
      expect(events.items[0]).toEqual({ messageId: sent[2].id, starred: true });

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const res = await api<{ messages: Message[]; nextCursor: string | null }>(
          alice2,
          'GET',
          `/starred${query}`,
        );
        expect(res.status).toBe(200);
        pages.push(res.body.messages.map((m) => m.body));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(pages).toEqual([
        ['m2', 'm5'],
        ['m1', 'm3'],
      ]);

      expect((await api(alice2, 'DELETE', `/messages/${sent[4].id}/star`)).status).toBe(204);
      expect((await api(alice2, 'DELETE', `/messages/${sent[4].id}/star`)).status).toBe(204);
      await eventually(() =>
        expect(events.items.at(-1)).toEqual({ messageId: sent[4].id, starred: false }),
      );
      const after = await api(alice, 'GET', '/starred');
      expect(after.body.messages.map((m: Message) => m.body)).toEqual(['m2', 'm1', 'm3']);
      expect(after.body.nextCursor).toBeNull();
      // Stars are per user.
      expect((await api(bob, 'GET', '/starred')).body).toEqual({ messages: [], nextCursor: null });
      events.stop();
    });

    it('refuses stars on messages the user cannot read and bad cursors, changing nothing', async () => {
      const alice = await user();
      const bob = await user();
      const eve = await user();
      const conversationId = await direct(alice, bob);
      const message = await send(await open(alice), { conversationId, body: 'x' });
      expectError(await api(eve, 'PUT', `/messages/${message.id}/star`), 404, 'NOT_FOUND');
      expectError(await api(eve, 'DELETE', `/messages/${message.id}/star`), 404, 'NOT_FOUND');
      expectError(await api(eve, 'PUT', `/messages/${randomUUID()}/star`), 404, 'NOT_FOUND');
      expect((await api(eve, 'GET', '/starred')).body).toEqual({ messages: [], nextCursor: null });
      expectError(await api(bob, 'GET', '/starred?cursor=nonsense'), 400, 'VALIDATION_FAILED');
      expectError(await api(bob, 'GET', '/starred?limit=0'), 400, 'VALIDATION_FAILED');
      expectError(await api(bob, 'GET', '/starred?limit=101'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('disappearing messages', () => {
    it('turns on with a system message; later messages expire, then go with their media', async () => {
      const alice = await user();
      const bob = await user();
      const conversationId = await direct(alice, bob);
      const aliceSocket = await open(alice);
      const bobSocket = await open(bob);
      const before = await send(aliceSocket, { conversationId, body: 'kept' });
      expect(before.expiresAt).toBeNull();

      const announced = nextEvent<Message>(bobSocket, 'message:new', (m) => m.type === 'system');
      const res = await api(alice, 'PATCH', `/conversations/${conversationId}`, {
        disappearAfterSec: 7 * DAY,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: conversationId,
        disappearAfterSec: 7 * DAY,
        lastSeq: 2,
      });
      const system = await announced;
      expect(system).toMatchObject({
        conversationId,
        seq: 2,
        senderId: alice.userId,
        expiresAt: null,
      });
      expect(JSON.parse(system.body)).toEqual({
        event: 'disappearing_changed',
        actorId: alice.userId,
        disappearAfterSec: 7 * DAY,
      });
      expect((await conversationOf(bob, conversationId)).disappearAfterSec).toBe(7 * DAY);

      const upload = await uploadMedia(t, alice.accessToken, await jpeg(64, 48, 21), 'p.jpg');
      expect(upload.status).toBe(201);
      const live = nextEvent<Message>(bobSocket, 'message:new', (m) => m.type === 'image');
      const photo = await send(aliceSocket, {
        conversationId,
        type: 'image',
        mediaId: upload.body.mediaId,
      });
      const text = await send(aliceSocket, { conversationId, body: 'soon gone' });
      for (const m of [photo, text]) {
        expect(Date.parse(m.expiresAt!) - Date.parse((m as any).createdAt)).toBe(7 * DAY * 1000);
      }
      expect((await live).expiresAt).toBe(photo.expiresAt);
      expect(
        (await fetchBytes(t, bob.accessToken, `/api/v1/media/${upload.body.mediaId}`)).status,
      ).toBe(200);

      // Time passes (see the note at the top): both expire.
      await db().query(
        `UPDATE messages SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`,
        [[photo.id, text.id]],
      );
      // Gone from reads at once, without a tombstone, even before the purge.
      expect(await historySeqs(bob, conversationId)).toEqual([1, 2]);
      expect(await syncIds(bobSocket)).toEqual([before.id, system.id]);

      await eventually(async () => {
        const rows = await db().query(`SELECT id FROM messages WHERE id = ANY($1::uuid[])`, [
          [photo.id, text.id],
        ]);
        expect(rows).toEqual([]);
      }, 10_000);
      for (const s of [alice, bob]) {
        const download = await fetchBytes(t, s.accessToken, `/api/v1/media/${upload.body.mediaId}`);
        expectError({ status: download.status, body: download.body }, 404, 'NOT_FOUND');
      }
      expect(await historySeqs(alice, conversationId)).toEqual([1, 2]);
      const listed = await api(alice, 'GET', '/conversations');
      expect(listed.body.find((c: any) => c.id === conversationId).lastMessage.seq).toBe(2);

      // Turned off: new messages do not expire; the earlier message is still there.
      expect(
        (await api(bob, 'PATCH', `/conversations/${conversationId}`, { disappearAfterSec: 0 })).body
          .disappearAfterSec,
      ).toBe(0);
      expect((await send(aliceSocket, { conversationId, body: 'stays' })).expiresAt).toBeNull();
      expect(await historySeqs(bob, conversationId)).toEqual([1, 2, 5, 6]);
    });

    it('takes only the four values, whatever else is sent, and changes nothing otherwise', async () => {
      const alice = await user();
      const bob = await user();
      const eve = await user();
      const conversationId = await direct(alice, bob);
      const bobSocket = await open(bob);
      const quiet = expectNoEvent(bobSocket, 'message:new', 600);
      for (const body of [
        { disappearAfterSec: 3600 },
        { disappearAfterSec: '86400' },
        { disappearAfterSec: -1 },
        { disappearAfterSec: null },
        {},
        { disappearAfterSec: 86400, name: 'x' },
      ]) {
        expectError(
          await api(alice, 'PATCH', `/conversations/${conversationId}`, body),
          400,
          'VALIDATION_FAILED',
        );
      }
      expectError(
        await api(eve, 'PATCH', `/conversations/${conversationId}`, { disappearAfterSec: DAY }),
        403,
        'NOT_A_MEMBER',
      );
      expectError(
        await api(eve, 'PATCH', `/conversations/${randomUUID()}`, { disappearAfterSec: DAY }),
        404,
        'NOT_FOUND',
      );
      expect(await quiet).toBe(true);
      expect(await conversationOf(alice, conversationId)).toMatchObject({
        disappearAfterSec: 0,
        lastSeq: 0,
      });
      // Setting the value it has already adds no message.
      const same = await api(alice, 'PATCH', `/conversations/${conversationId}`, {
        disappearAfterSec: 0,
      });
      expect(same.body).toMatchObject({ disappearAfterSec: 0, lastSeq: 0 });
    });

    it('in groups: any member, unless only admins may edit the info', async () => {
      const admin = await user();
      const member = await user();
      const created = await api(admin, 'POST', '/groups', {
        name: 'timers',
        memberIds: [member.userId],
      });
      expect(created.status).toBe(201);
      const groupId = created.body.id as string;
      const memberSocket = await open(member);

      const ok = await api(member, 'PATCH', `/conversations/${groupId}`, {
        disappearAfterSec: DAY,
      });
      expect(ok.status).toBe(200);
      expect(ok.body.disappearAfterSec).toBe(DAY);

      expect(
        (await api(admin, 'PATCH', `/groups/${groupId}`, { onlyAdminsCanEditInfo: true })).status,
      ).toBe(200);
      const lastSeq = (await conversationOf(admin, groupId)).lastSeq;
      const quiet = expectNoEvent(memberSocket, 'message:new', 500);
      expectError(
        await api(member, 'PATCH', `/conversations/${groupId}`, { disappearAfterSec: 7_776_000 }),
        403,
        'ADMIN_ONLY',
      );
      expect(await quiet).toBe(true);
      expect(await conversationOf(member, groupId)).toMatchObject({
        disappearAfterSec: DAY,
        lastSeq,
      });

      const announced = nextEvent<Message>(memberSocket, 'message:new', (m) => m.type === 'system');
      const byAdmin = await api(admin, 'PATCH', `/conversations/${groupId}`, {
        disappearAfterSec: 7_776_000,
      });
      expect(byAdmin.body).toMatchObject({ disappearAfterSec: 7_776_000, lastSeq: lastSeq + 1 });
      expect(JSON.parse((await announced).body)).toEqual({
        event: 'disappearing_changed',
        actorId: admin.userId,
        disappearAfterSec: 7_776_000,
      });
      const message = await send(memberSocket, { conversationId: groupId, body: 'timed' });
      expect(Date.parse(message.expiresAt!)).toBeGreaterThan(Date.now() + 89 * DAY * 1000);
    });
  });
});
