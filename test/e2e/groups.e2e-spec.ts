import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { uuidv7 } from 'uuidv7';
import {
  collect,
  connect,
  expectNoEvent,
  nextEvent,
  request,
  signIn,
  sleep,
  type Session,
} from '../utils/clients';
import { http, type HttpResult } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

interface GroupBody {
  id: string;
  name: string;
  description: string;
  createdBy: string;
  memberCount: number;
  settings: { onlyAdminsCanSend: boolean; onlyAdminsCanEditInfo: boolean };
  members: Array<{ userId: string; role: string }>;
  createdAt: string;
}

interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  type: string;
  body: string;
}

interface SystemEvent {
  event: string;
  actorId: string | null;
  userIds: string[];
  [key: string]: unknown;
}

type Outcome = { ok: true; status?: number } | { ok: false; status?: number; code: string };

const STATUS: Record<string, number> = {
  NOT_A_MEMBER: 403,
  ADMIN_ONLY: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GROUP_FULL: 409,
};

const eventOf = (m: Message) => JSON.parse(m.body) as SystemEvent;
const seqs = (messages: Message[]) => messages.map((m) => m.seq);
const byUserId = (a: { userId: string }, b: { userId: string }) =>
  a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;

/** Runs fn over items in parallel batches, keeping the order of the results. */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('groups (e2e)', () => {
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t.close();
  });

  const api = (s: Session, method: string, path: string, body?: unknown) =>
    http(t.api, method, path, { token: s.accessToken, body });
  const users = (n: number) => Promise.all(Array.from({ length: n }, () => signIn(t)));
  const open = async (s: Session): Promise<Socket> => {
    const socket = await connect(t, s.accessToken);
    sockets.push(socket);
    return socket;
  };

  const createGroup = async (
    creator: Session,
    members: Session[],
    extra: { name?: string; description?: string } = {},
  ): Promise<GroupBody> => {
    const res = await api(creator, 'POST', '/groups', {
      name: extra.name ?? 'Group',
      description: extra.description,
      memberIds: members.map((m) => m.userId),
    });
    expect(res.status).toBe(201);
    return res.body as GroupBody;
  };

  const expectError = (res: HttpResult, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: STATUS[code], code });
    expect(typeof res.body.message).toBe('string');
  };
  const expectAckError = (ack: any, code: string) => {
    expect(ack).toEqual({ ok: false, error: expect.objectContaining({ code }) });
  };

  const send = (socket: Socket, conversationId: string, body = 'hello') =>
    request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      conversationId,
      type: 'text',
      body,
    });
  const sent = async (socket: Socket, conversationId: string, body = 'hello'): Promise<Message> => {
    const ack = await send(socket, conversationId, body);
    expect(ack.ok).toBe(true);
    return ack.message as Message;
  };
  const ack = (socket: Socket, conversationId: string, seq: number, status = 'delivered') =>
    request(socket, 'message:ack', { conversationId, seq, status });

  const history = async (s: Session, groupId: string, query = 'afterSeq=0&limit=100') => {
    const res = await api(s, 'GET', `/conversations/${groupId}/messages?${query}`);
    expect(res.status).toBe(200);
    return res.body.messages as Message[];
  };
  /** What sync offers this device in the group (REST, nothing acked). */
  const synced = async (s: Session, groupId: string) => {
    const res = await api(s, 'GET', '/sync?limit=500');
    expect(res.status).toBe(200);
    return (res.body.messages as Message[]).filter((m) => m.conversationId === groupId);
  };
  const conversation = async (s: Session, groupId: string) => {
    const res = await api(s, 'GET', `/conversations/${groupId}`);
    expect(res.status).toBe(200);
    return res.body as {
      lastSeq: number;
      peerDeliveredSeq: number;
      peerReadSeq: number;
      left: boolean;
      unreadCount: number;
    };
  };
  const getGroup = async (s: Session, groupId: string) => {
    const res = await api(s, 'GET', `/groups/${groupId}`);
    expect(res.status).toBe(200);
    return res.body as GroupBody;
  };
  const roleOf = (group: GroupBody, s: Session) =>
    group.members.find((m) => m.userId === s.userId)?.role;
  /** Collects this socket's message:new events of one group. */
  const live = (socket: Socket, groupId: string) => {
    const all = collect<Message>(socket, 'message:new');
    return {
      get messages() {
        return all.items.filter((m) => m.conversationId === groupId);
      },
      stop: all.stop,
    };
  };
  const waitForSeq = (socket: Socket, groupId: string, seq: number) =>
    nextEvent<Message>(socket, 'message:new', (m) => m.conversationId === groupId && m.seq === seq);
  /** Waits until a collector has seen the seq (or a few seconds have passed). */
  const untilSeen = async (messages: () => Message[], seq: number) => {
    for (let i = 0; i < 250 && !messages().some((m) => m.seq === seq); i++) await sleep(20);
  };

  describe('creating and reading', () => {
    it('creates a group with the caller as creator and announces it to every member', async () => {
      const [creator, a, b] = await users(3);
      const socketA = await open(a);
      const announced = nextEvent<Message>(socketA, 'message:new', (m) => m.type === 'system');

      const res = await api(creator, 'POST', '/groups', {
        name: 'Climbers',
        description: 'Weekend trips',
        memberIds: [a.userId, b.userId],
      });
      expect(res.status).toBe(201);
      const group = res.body as GroupBody;
      expect({ ...group, members: [...group.members].sort(byUserId) }).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        name: 'Climbers',
        notAdded: [],
        description: 'Weekend trips',
        createdBy: creator.userId,
        memberCount: 3,
        settings: { onlyAdminsCanSend: false, onlyAdminsCanEditInfo: false },
        iconUrl: null,
        members: [
          { userId: creator.userId, role: 'creator' },
          { userId: a.userId, role: 'member' },
          { userId: b.userId, role: 'member' },
        ].sort(byUserId),
        createdAt: expect.any(String),
      });
      expect(new Date(group.createdAt).toISOString()).toBe(group.createdAt);
      expect(Math.abs(Date.parse(group.createdAt) - Date.now())).toBeLessThan(60_000);

      const message = await announced;
      expect(message).toMatchObject({
        conversationId: group.id,
        seq: 1,
        type: 'system',
        senderId: creator.userId,
      });
      expect(eventOf(message)).toEqual({
        event: 'group_created',
        actorId: creator.userId,
        userIds: [a.userId, b.userId],
        name: 'Climbers',
      });

      // Every member reads the same group, and finds it among their conversations.
      // notAdded belongs to the answer of the add, not to the group.
      const stored: Record<string, unknown> = { ...group };
      delete stored.notAdded;
      expect(await getGroup(b, group.id)).toEqual(stored);
      expect(seqs(await history(b, group.id))).toEqual([1]);
      const list = await api(b, 'GET', '/conversations');
      expect(list.body).toContainEqual(
        expect.objectContaining({ id: group.id, type: 'group', name: 'Climbers', lastSeq: 1 }),
      );
    });

    it('defaults the description, drops duplicate ids and the creator’s own', async () => {
      const [creator, a] = await users(2);
      const group = await createGroup(creator, [a, a, creator], { name: 'Dupes' });
      expect(group.description).toBe('');
      expect(group.memberCount).toBe(2);
      expect(group.members.filter((m) => m.userId === creator.userId)).toEqual([
        { userId: creator.userId, role: 'creator' },
      ]);
      expect(eventOf((await history(creator, group.id))[0]).userIds).toEqual([a.userId]);
    });

    it('refuses unknown users with NOT_FOUND and creates nothing', async () => {
      const [creator, a] = await users(2);
      const res = await api(creator, 'POST', '/groups', {
        name: 'Ghosts',
        memberIds: [a.userId, uuidv7()],
      });
      expectError(res, 'NOT_FOUND');
      expect((await api(creator, 'GET', '/conversations')).body).toEqual([]);
      expect((await api(a, 'GET', '/conversations')).body).toEqual([]);
    });

    it('refuses more than 1,024 members, creator included, with GROUP_FULL', async () => {
      const [creator] = await users(1);
      const ids = Array.from({ length: 1024 }, () => uuidv7());
      const res = await api(creator, 'POST', '/groups', { name: 'Too big', memberIds: ids });
      expectError(res, 'GROUP_FULL');
      expect((await api(creator, 'GET', '/conversations')).body).toEqual([]);
    });

    it('validates the input', async () => {
      const [creator, a] = await users(2);
      for (const body of [
        { memberIds: [a.userId] },
        { name: '', memberIds: [a.userId] },
        { name: 'x'.repeat(101), memberIds: [a.userId] },
        { name: 'Bad ids', memberIds: ['not-a-uuid'] },
        { name: 'No ids' },
        { name: 'Extra', memberIds: [], admin: true },
      ]) {
        const res = await api(creator, 'POST', '/groups', body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const group = await createGroup(creator, [a]);
      expect((await api(creator, 'GET', '/groups/not-a-uuid')).status).toBe(400);
      for (const body of [{ name: '' }, { onlyAdminsCanSend: 'yes' }, { description: 5 }]) {
        const res = await api(creator, 'PATCH', `/groups/${group.id}`, body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      for (const role of ['creator', 'owner', undefined]) {
        const res = await api(creator, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, {
          role,
        });
        expect(res.status).toBe(400);
      }
      expect((await conversation(creator, group.id)).lastSeq).toBe(1);
    });

    it('answers NOT_FOUND for an unknown group on every endpoint and socket event', async () => {
      const [s, other] = await users(2);
      const socket = await open(s);
      const id = uuidv7();
      for (const [method, path, body] of [
        ['GET', `/groups/${id}`],
        ['GET', `/groups/${id}/members`],
        ['PATCH', `/groups/${id}`, { name: 'x' }],
        ['POST', `/groups/${id}/members`, { userIds: [other.userId] }],
        ['DELETE', `/groups/${id}/members/${other.userId}`],
        ['DELETE', `/groups/${id}/members/${s.userId}`],
        ['PUT', `/groups/${id}/members/${other.userId}/role`, { role: 'admin' }],
      ] as Array<[string, string, unknown?]>) {
        expectError(await api(s, method, path, body), 'NOT_FOUND');
      }
      expectAckError(await send(socket, id), 'NOT_FOUND');
      expectAckError(await ack(socket, id, 1), 'NOT_FOUND');
      expectAckError(
        await request(socket, 'typing', { conversationId: id, isTyping: true }),
        'NOT_FOUND',
      );
    });

    it('pages members ordered by userId, at most 500 a page', async () => {
      const [creator, ...others] = await users(13);
      const group = await createGroup(creator, others);
      const expected = [creator, ...others].map((u) => u.userId).sort();

      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=5${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await api(others[3], 'GET', `/groups/${group.id}/members?${query}`);
        expect(res.status).toBe(200);
        sizes.push(res.body.members.length);
        seen.push(...res.body.members.map((m: { userId: string }) => m.userId));
        cursor = res.body.nextCursor;
        if (cursor) expect(cursor).toBe(seen[seen.length - 1]);
      } while (cursor);
      expect(sizes).toEqual([5, 5, 3]);
      expect(seen).toEqual(expected);

      const whole = await api(creator, 'GET', `/groups/${group.id}/members`);
      expect(whole.body.nextCursor).toBeNull();
      expect(whole.body.members).toEqual(
        expected.map((userId) => ({
          userId,
          role: userId === creator.userId ? 'creator' : 'member',
        })),
      );
      // Exactly a page: no further cursor.
      const exact = await api(creator, 'GET', `/groups/${group.id}/members?limit=13`);
      expect(exact.body).toEqual({ members: whole.body.members, nextCursor: null });

      for (const query of ['limit=501', 'limit=0', 'limit=x', 'cursor=nope']) {
        const res = await api(creator, 'GET', `/groups/${group.id}/members?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      expect((await api(creator, 'GET', `/groups/${group.id}/members?limit=500`)).status).toBe(200);
    });
  });

  describe('permission matrix', () => {
    type Role = 'creator' | 'admin' | 'member' | 'removed' | 'stranger';
    const ROLES: Role[] = ['creator', 'admin', 'member', 'removed', 'stranger'];
    interface Fixture {
      id: string;
      lastSeq: number;
    }
    interface Op {
      name: string;
      /** Settings switched on by the creator before the operation. */
      setup?: { onlyAdminsCanSend?: boolean; onlyAdminsCanEditInfo?: boolean };
      /** Messages a successful run appends to the group (system or not). */
      appends: number;
      run: (actor: Session, socket: Socket, g: Fixture) => Promise<Outcome>;
      /** 'ok', or the error code. */
      expected: Record<Role, string>;
    }

    let cast: Record<Role, Session>;
    let castSockets: Record<Role, Socket>;
    let target: Session;
    let newcomer: Session;

    beforeAll(async () => {
      const [creator, admin, member, removed, stranger, t1, n1] = await users(7);
      cast = { creator, admin, member, removed, stranger };
      target = t1;
      newcomer = n1;
      const opened = await Promise.all(ROLES.map((r) => open(cast[r])));
      castSockets = Object.fromEntries(ROLES.map((r, i) => [r, opened[i]])) as Record<Role, Socket>;
    });

    /** A fresh group: creator, an admin, a member, a target member, and a removed member. */
    const fixture = async (setup: Op['setup']): Promise<Fixture> => {
      const { creator, admin, member, removed } = cast;
      const group = await createGroup(creator, [admin, member, removed, target]);
      const promoted = await api(
        creator,
        'PUT',
        `/groups/${group.id}/members/${admin.userId}/role`,
        { role: 'admin' },
      );
      expect(promoted.status).toBe(200);
      const gone = await api(creator, 'DELETE', `/groups/${group.id}/members/${removed.userId}`);
      expect(gone.status).toBe(204);
      await sent(castSockets.creator, group.id, 'after the removal');
      if (setup) {
        expect((await api(creator, 'PATCH', `/groups/${group.id}`, setup)).status).toBe(200);
      }
      return { id: group.id, lastSeq: (await conversation(target, group.id)).lastSeq };
    };

    const viaHttp =
      (
        okStatus: number,
        method: string,
        path: (g: Fixture, actor: Session) => string,
        body?: () => unknown,
      ) =>
      async (actor: Session, _socket: Socket, g: Fixture): Promise<Outcome> => {
        const res = await api(actor, method, path(g, actor), body?.());
        if (res.status < 300) {
          expect(res.status).toBe(okStatus);
          return { ok: true, status: res.status };
        }
        return { ok: false, status: res.status, code: res.body?.code };
      };
    const viaSocket =
      (event: string, payload: (g: Fixture) => object) =>
      async (_actor: Session, socket: Socket, g: Fixture): Promise<Outcome> => {
        const res = await request(socket, event, payload(g));
        return res.ok ? { ok: true } : { ok: false, code: res.error?.code };
      };

    const members = { creator: 'ok', admin: 'ok', member: 'ok' } as const;
    const admins = { creator: 'ok', admin: 'ok', member: 'ADMIN_ONLY' } as const;
    const outsiders = { removed: 'NOT_A_MEMBER', stranger: 'NOT_A_MEMBER' } as const;

    const ops: Op[] = [
      {
        name: 'GET /groups/:id',
        appends: 0,
        run: viaHttp(200, 'GET', (g) => `/groups/${g.id}`),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'GET /groups/:id/members',
        appends: 0,
        run: viaHttp(200, 'GET', (g) => `/groups/${g.id}/members`),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'PATCH name',
        appends: 1,
        run: viaHttp(
          200,
          'PATCH',
          (g) => `/groups/${g.id}`,
          () => ({ name: 'Renamed' }),
        ),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'PATCH description while onlyAdminsCanEditInfo is on',
        setup: { onlyAdminsCanEditInfo: true },
        appends: 1,
        run: viaHttp(
          200,
          'PATCH',
          (g) => `/groups/${g.id}`,
          () => ({ description: 'New text' }),
        ),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'PATCH a setting',
        appends: 1,
        run: viaHttp(
          200,
          'PATCH',
          (g) => `/groups/${g.id}`,
          () => ({ onlyAdminsCanSend: true }),
        ),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'POST /groups/:id/members',
        appends: 1,
        run: viaHttp(
          200,
          'POST',
          (g) => `/groups/${g.id}/members`,
          () => ({
            userIds: [newcomer.userId],
          }),
        ),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'DELETE another member',
        appends: 1,
        run: viaHttp(204, 'DELETE', (g) => `/groups/${g.id}/members/${target.userId}`),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'PUT another member’s role',
        appends: 1,
        run: viaHttp(
          200,
          'PUT',
          (g) => `/groups/${g.id}/members/${target.userId}/role`,
          () => ({ role: 'admin' }),
        ),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'DELETE the creator',
        appends: 1,
        run: viaHttp(204, 'DELETE', (g) => `/groups/${g.id}/members/${cast.creator.userId}`),
        // For the creator it is leaving.
        expected: { creator: 'ok', admin: 'FORBIDDEN', member: 'ADMIN_ONLY', ...outsiders },
      },
      {
        name: 'PUT the creator’s role',
        appends: 1,
        run: viaHttp(
          200,
          'PUT',
          (g) => `/groups/${g.id}/members/${cast.creator.userId}/role`,
          () => ({ role: 'member' }),
        ),
        expected: { creator: 'FORBIDDEN', admin: 'FORBIDDEN', member: 'ADMIN_ONLY', ...outsiders },
      },
      {
        name: 'DELETE themself (leave)',
        appends: 1,
        run: viaHttp(204, 'DELETE', (g, actor) => `/groups/${g.id}/members/${actor.userId}`),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'message:send',
        appends: 1,
        run: viaSocket('message:send', (g) => ({
          clientMsgId: randomUUID(),
          conversationId: g.id,
          type: 'text',
          body: 'hi',
        })),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'message:send while onlyAdminsCanSend is on',
        setup: { onlyAdminsCanSend: true },
        appends: 1,
        run: viaSocket('message:send', (g) => ({
          clientMsgId: randomUUID(),
          conversationId: g.id,
          type: 'text',
          body: 'hi',
        })),
        expected: { ...admins, ...outsiders },
      },
      {
        name: 'message:ack of the latest message',
        appends: 0,
        run: viaSocket('message:ack', (g) => ({
          conversationId: g.id,
          seq: g.lastSeq,
          status: 'read',
        })),
        expected: { ...members, ...outsiders },
      },
      {
        name: 'typing',
        appends: 0,
        run: viaSocket('typing', (g) => ({ conversationId: g.id, isTyping: true })),
        expected: { ...members, ...outsiders },
      },
    ];

    describe.each(ops)('$name', (op) => {
      it.each(ROLES)('as %s', async (role) => {
        const g = await fixture(op.setup);
        const outcome = await op.run(cast[role], castSockets[role], g);
        const expected = op.expected[role];
        const after = (await conversation(target, g.id)).lastSeq;
        if (expected === 'ok') {
          expect(outcome).toMatchObject({ ok: true });
          expect(after).toBe(g.lastSeq + op.appends);
        } else {
          expect(outcome).toMatchObject({ ok: false, code: expected });
          if (outcome.status !== undefined) expect(outcome.status).toBe(STATUS[expected]);
          // A refused operation changes nothing.
          expect(after).toBe(g.lastSeq);
        }
      });
    });
  });

  describe('changing the group', () => {
    it('PATCH appends one system message per kind of change and nothing for a no-op', async () => {
      const [creator, a, b] = await users(3);
      const group = await createGroup(creator, [a, b], { name: 'Old', description: 'old' });
      await api(creator, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, { role: 'admin' });
      const socketB = await open(b);
      const seen = live(socketB, group.id);

      const res = await api(a, 'PATCH', `/groups/${group.id}`, {
        name: 'New',
        description: 'new',
        onlyAdminsCanSend: true,
        onlyAdminsCanEditInfo: true,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: group.id,
        name: 'New',
        description: 'new',
        settings: { onlyAdminsCanSend: true, onlyAdminsCanEditInfo: true },
        memberCount: 3,
      });
      const messages = (await history(b, group.id)).slice(2);
      expect(seqs(messages)).toEqual([3, 4, 5]);
      expect(messages.map(eventOf)).toEqual([
        { event: 'group_renamed', actorId: a.userId, userIds: [], name: 'New' },
        { event: 'description_changed', actorId: a.userId, userIds: [], description: 'new' },
        {
          event: 'settings_changed',
          actorId: a.userId,
          userIds: [],
          settings: { onlyAdminsCanSend: true, onlyAdminsCanEditInfo: true },
        },
      ]);
      await untilSeen(() => seen.messages, 5);
      expect(seqs(seen.messages)).toEqual([3, 4, 5]);

      // The same values again, or nothing at all, change nothing and announce nothing.
      for (const body of [{}, { name: 'New', description: 'new', onlyAdminsCanSend: true }]) {
        const same = await api(a, 'PATCH', `/groups/${group.id}`, body);
        expect(same.status).toBe(200);
        expect(same.body).toEqual(res.body);
      }
      expect((await conversation(b, group.id)).lastSeq).toBe(5);
      seen.stop();
    });

    it('lets any member edit the info until onlyAdminsCanEditInfo is on', async () => {
      const [creator, m] = await users(2);
      const group = await createGroup(creator, [m]);
      const renamed = await api(m, 'PATCH', `/groups/${group.id}`, { name: 'By a member' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('By a member');
      expectError(
        await api(m, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanEditInfo: true }),
        'ADMIN_ONLY',
      );
      await api(creator, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanEditInfo: true });
      expectError(await api(m, 'PATCH', `/groups/${group.id}`, { name: 'Again' }), 'ADMIN_ONLY');
      expectError(
        await api(m, 'PATCH', `/groups/${group.id}`, { description: 'Again' }),
        'ADMIN_ONLY',
      );
      expect((await getGroup(m, group.id)).name).toBe('By a member');
      await api(creator, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanEditInfo: false });
      expect((await api(m, 'PATCH', `/groups/${group.id}`, { description: 'Free' })).status).toBe(
        200,
      );
    });

    it('with onlyAdminsCanSend on, members get ADMIN_ONLY and admins can send', async () => {
      const [creator, admin, m] = await users(3);
      const group = await createGroup(creator, [admin, m]);
      await api(creator, 'PUT', `/groups/${group.id}/members/${admin.userId}/role`, {
        role: 'admin',
      });
      await api(admin, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanSend: true });
      const [sc, sa, sm] = await Promise.all([open(creator), open(admin), open(m)]);
      const before = (await conversation(m, group.id)).lastSeq;

      expectAckError(await send(sm, group.id), 'ADMIN_ONLY');
      const rest = await api(m, 'POST', '/messages', {
        clientMsgId: randomUUID(),
        conversationId: group.id,
        type: 'text',
        body: 'over REST',
      });
      expectError(rest, 'ADMIN_ONLY');
      expect((await conversation(m, group.id)).lastSeq).toBe(before);

      expect((await sent(sc, group.id)).seq).toBe(before + 1);
      expect((await sent(sa, group.id)).seq).toBe(before + 2);
      // Promoted members may send; switched off, everyone may.
      await api(creator, 'PUT', `/groups/${group.id}/members/${m.userId}/role`, { role: 'admin' });
      expect((await sent(sm, group.id)).seq).toBe(before + 4);
      await api(creator, 'PUT', `/groups/${group.id}/members/${m.userId}/role`, { role: 'member' });
      expectAckError(await send(sm, group.id), 'ADMIN_ONLY');
      await api(creator, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanSend: false });
      expect((await sent(sm, group.id)).seq).toBe(before + 7);
    });

    it('adds members, ignoring those already in, all or nothing for unknown users', async () => {
      const [creator, a, b, c] = await users(4);
      const group = await createGroup(creator, [a]);
      const socketA = await open(a);

      const announced = waitForSeq(socketA, group.id, 2);
      const res = await api(creator, 'POST', `/groups/${group.id}/members`, {
        userIds: [a.userId, b.userId, b.userId, creator.userId],
      });
      expect(res.status).toBe(200);
      expect(res.body.memberCount).toBe(3);
      expect([...res.body.members].sort(byUserId)).toEqual(
        [
          { userId: creator.userId, role: 'creator' },
          { userId: a.userId, role: 'member' },
          { userId: b.userId, role: 'member' },
        ].sort(byUserId),
      );
      expect(eventOf(await announced)).toEqual({
        event: 'members_added',
        actorId: creator.userId,
        userIds: [b.userId],
      });

      // Only members already in: nothing happens.
      const again = await api(creator, 'POST', `/groups/${group.id}/members`, {
        userIds: [a.userId, b.userId],
      });
      expect(again.status).toBe(200);
      expect(again.body.memberCount).toBe(3);
      expect((await conversation(a, group.id)).lastSeq).toBe(2);

      // An unknown user spoils the whole request.
      const unknown = await api(creator, 'POST', `/groups/${group.id}/members`, {
        userIds: [c.userId, uuidv7()],
      });
      expectError(unknown, 'NOT_FOUND');
      const after = await getGroup(creator, group.id);
      expect(after.memberCount).toBe(3);
      expect(roleOf(after, c)).toBeUndefined();
      expect((await conversation(a, group.id)).lastSeq).toBe(2);
    });

    it('removes members and lets anyone leave, but never removes the creator', async () => {
      const [creator, admin, m1, m2, stranger] = await users(5);
      const group = await createGroup(creator, [admin, m1, m2]);
      await api(creator, 'PUT', `/groups/${group.id}/members/${admin.userId}/role`, {
        role: 'admin',
      });
      const socketM2 = await open(m2);

      expectError(
        await api(admin, 'DELETE', `/groups/${group.id}/members/${creator.userId}`),
        'FORBIDDEN',
      );
      expectError(
        await api(m1, 'DELETE', `/groups/${group.id}/members/${creator.userId}`),
        'ADMIN_ONLY',
      );
      expectError(
        await api(admin, 'DELETE', `/groups/${group.id}/members/${stranger.userId}`),
        'NOT_FOUND',
      );
      expectError(
        await api(admin, 'DELETE', `/groups/${group.id}/members/${uuidv7()}`),
        'NOT_FOUND',
      );
      expect((await conversation(m2, group.id)).lastSeq).toBe(2);

      const removed = waitForSeq(socketM2, group.id, 3);
      expect((await api(admin, 'DELETE', `/groups/${group.id}/members/${m1.userId}`)).status).toBe(
        204,
      );
      expect(eventOf(await removed)).toEqual({
        event: 'member_removed',
        actorId: admin.userId,
        userIds: [m1.userId],
      });
      expectError(
        await api(admin, 'DELETE', `/groups/${group.id}/members/${m1.userId}`),
        'NOT_FOUND',
      );

      const left = waitForSeq(socketM2, group.id, 4);
      expect(
        (await api(admin, 'DELETE', `/groups/${group.id}/members/${admin.userId}`)).status,
      ).toBe(204);
      expect(eventOf(await left)).toEqual({
        event: 'member_left',
        actorId: admin.userId,
        userIds: [admin.userId],
      });
      const after = await getGroup(m2, group.id);
      expect(after.memberCount).toBe(2);
      expect(after.members.map((m) => m.userId).sort()).toEqual([creator.userId, m2.userId].sort());
      // Leaving twice is not possible: they are no member any more.
      expectError(
        await api(admin, 'DELETE', `/groups/${group.id}/members/${admin.userId}`),
        'NOT_A_MEMBER',
      );
    });

    it('changes roles: admins only, never the creator’s, never the last admin stepping down', async () => {
      const [creator, a, b, stranger] = await users(4);
      const group = await createGroup(creator, [a, b]);
      const socketB = await open(b);

      const changed = waitForSeq(socketB, group.id, 2);
      const up = await api(creator, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, {
        role: 'admin',
      });
      expect(up.status).toBe(200);
      expect(roleOf(up.body as GroupBody, a)).toBe('admin');
      expect(eventOf(await changed)).toEqual({
        event: 'role_changed',
        actorId: creator.userId,
        userIds: [a.userId],
        role: 'admin',
      });
      // The new admin can act as one.
      expect(
        (await api(a, 'PUT', `/groups/${group.id}/members/${b.userId}/role`, { role: 'admin' }))
          .status,
      ).toBe(200);
      const down = await api(a, 'PUT', `/groups/${group.id}/members/${b.userId}/role`, {
        role: 'member',
      });
      expect(roleOf(down.body as GroupBody, b)).toBe('member');
      expect((await conversation(b, group.id)).lastSeq).toBe(4);

      // The same role again changes nothing.
      const same = await api(a, 'PUT', `/groups/${group.id}/members/${b.userId}/role`, {
        role: 'member',
      });
      expect(same.status).toBe(200);
      expect((await conversation(b, group.id)).lastSeq).toBe(4);

      for (const actor of [a, creator]) {
        expectError(
          await api(actor, 'PUT', `/groups/${group.id}/members/${creator.userId}/role`, {
            role: 'member',
          }),
          'FORBIDDEN',
        );
      }
      expectError(
        await api(b, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, { role: 'member' }),
        'ADMIN_ONLY',
      );
      expectError(
        await api(a, 'PUT', `/groups/${group.id}/members/${stranger.userId}/role`, {
          role: 'admin',
        }),
        'NOT_FOUND',
      );
      // With the creator still there, an admin may step down.
      const stepDown = await api(a, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, {
        role: 'member',
      });
      expect(roleOf(stepDown.body as GroupBody, a)).toBe('member');
      expect((await conversation(b, group.id)).lastSeq).toBe(5);

      // Once the creator has left, the last admin cannot step down.
      await api(creator, 'DELETE', `/groups/${group.id}/members/${creator.userId}`);
      const heir = await getGroup(a, group.id);
      expect(roleOf(heir, a)).toBe('admin'); // longest-standing
      const lastSeq = (await conversation(b, group.id)).lastSeq;
      expectError(
        await api(a, 'PUT', `/groups/${group.id}/members/${a.userId}/role`, { role: 'member' }),
        'CONFLICT',
      );
      expect(roleOf(await getGroup(a, group.id), a)).toBe('admin');
      expect((await conversation(b, group.id)).lastSeq).toBe(lastSeq);
    });
  });

  describe('the member cap under concurrency', () => {
    const CAP = 1024;
    let pool: Session[];
    let creator: Session;
    let admin: Session;

    beforeAll(async () => {
      pool = await inBatches(
        Array.from({ length: 1060 }, () => null),
        50,
        () => signIn(t),
      );
      expect(new Set(pool.map((u) => u.userId)).size).toBe(pool.length);
      [creator, admin] = pool;
    }, 180_000);

    const addAll = (actor: Session, groupId: string, batch: Session[]) =>
      api(actor, 'POST', `/groups/${groupId}/members`, { userIds: batch.map((u) => u.userId) });

    it('creates a group of exactly 1,024 and refuses one more', async () => {
      const others = pool.slice(1, CAP);
      expect(others).toHaveLength(CAP - 1);
      const group = await createGroup(creator, others, { name: 'Full house' });
      expect(group.memberCount).toBe(CAP);
      expect(group.members).toHaveLength(CAP);

      const extra = pool[CAP];
      expectError(await addAll(creator, group.id, [extra]), 'GROUP_FULL');
      // Re-adding present members is still fine at the cap.
      expect((await addAll(creator, group.id, others.slice(0, 3))).status).toBe(200);
      expect((await conversation(creator, group.id)).lastSeq).toBe(1);

      // Big groups page 500 at a time.
      const sizes: number[] = [];
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=500${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await api(pool[500], 'GET', `/groups/${group.id}/members?${query}`);
        sizes.push(res.body.members.length);
        ids.push(...res.body.members.map((m: { userId: string }) => m.userId));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([500, 500, 24]);
      expect(ids).toEqual(
        pool
          .slice(0, CAP)
          .map((u) => u.userId)
          .sort(),
      );
    });

    it('adds nobody when a request would pass 1,024', async () => {
      const group = await createGroup(creator, [admin]);
      const res = await addAll(creator, group.id, pool.slice(2, 2 + CAP));
      expectError(res, 'GROUP_FULL');
      const after = await getGroup(admin, group.id);
      expect(after.memberCount).toBe(2);
      expect(after.members).toHaveLength(2);
      expect((await conversation(admin, group.id)).lastSeq).toBe(1);
    });

    it('lets exactly one of two concurrent additions in when only one fits', async () => {
      const group = await createGroup(creator, [admin, ...pool.slice(2, 1000)]);
      expect(group.memberCount).toBe(1000);
      await api(creator, 'PUT', `/groups/${group.id}/members/${admin.userId}/role`, {
        role: 'admin',
      });

      // Fresh users from the pool for each request.
      let next = 1000;
      const take = (n: number) => {
        const out = pool.slice(next, (next += n));
        if (out.length < n) throw new Error('pool exhausted');
        return out;
      };
      const settle = async (a: Session[], b: Session[], expectedCount: number) => {
        const before = (await conversation(creator, group.id)).lastSeq;
        const [ra, rb] = await Promise.all([
          addAll(creator, group.id, a),
          addAll(admin, group.id, b),
        ]);
        const statuses = [ra.status, rb.status].sort();
        expect(statuses).toEqual([200, 409]);
        const loser = ra.status === 409 ? ra : rb;
        expectError(loser, 'GROUP_FULL');
        const [winners, losers] = ra.status === 200 ? [a, b] : [b, a];

        const after = await getGroup(creator, group.id);
        expect(after.memberCount).toBe(expectedCount);
        expect(after.members).toHaveLength(expectedCount);
        expect(after.memberCount).toBeLessThanOrEqual(CAP);
        const present = new Set(after.members.map((m) => m.userId));
        expect(winners.filter((u) => present.has(u.userId))).toHaveLength(winners.length);
        expect(losers.filter((u) => present.has(u.userId))).toEqual([]);

        // Exactly one system message, announcing exactly the winners.
        const messages = await history(creator, group.id, `afterSeq=${before}`);
        expect(seqs(messages)).toEqual([before + 1]);
        expect(eventOf(messages[0])).toMatchObject({
          event: 'members_added',
          userIds: winners.map((u) => u.userId),
        });
      };

      // 1,000 + 20 fits; 1,000 + 40 does not.
      await settle(take(20), take(20), 1020);
      // 1,020 + 3 fits, and so does the other 3 alone, but not both together.
      await settle(take(3), take(3), 1023);

      // The last seat, then no more.
      expect((await addAll(admin, group.id, take(1))).status).toBe(200);
      expectError(await addAll(admin, group.id, take(1)), 'GROUP_FULL');
      expect((await getGroup(admin, group.id)).memberCount).toBe(CAP);
    }, 60_000);
  });

  describe('system messages and visibility', () => {
    it('records every change as a system message, in seq order without gaps, live, in history and in sync', async () => {
      const [c, a, b, d, e] = await users(5);
      const socketA = await open(a);
      const socketB = await open(b);
      const socketC = await open(c);
      const seenByA = collect<Message>(socketA, 'message:new');

      const group = await createGroup(c, [a, b], { name: 'Story' }); // 1
      const id = group.id;
      const seenInGroup = () => seenByA.items.filter((m) => m.conversationId === id);
      await sent(socketC, id, 'first'); // 2
      await api(c, 'PUT', `/groups/${id}/members/${a.userId}/role`, { role: 'admin' }); // 3
      await api(a, 'PATCH', `/groups/${id}`, {
        name: 'Story 2',
        description: 'about us',
        onlyAdminsCanEditInfo: true,
      }); // 4, 5, 6
      await api(a, 'POST', `/groups/${id}/members`, { userIds: [d.userId, e.userId] }); // 7
      await sent(socketB, id, 'second'); // 8
      await api(a, 'DELETE', `/groups/${id}/members/${e.userId}`); // 9
      await api(d, 'DELETE', `/groups/${id}/members/${d.userId}`); // 10
      await api(c, 'PUT', `/groups/${id}/members/${a.userId}/role`, { role: 'member' }); // 11
      await api(c, 'DELETE', `/groups/${id}/members/${c.userId}`); // 12, 13

      const expected: Array<[number, string, string | null, string[]]> = [
        [1, 'group_created', c.userId, [a.userId, b.userId]],
        [2, 'text', null, []],
        [3, 'role_changed', c.userId, [a.userId]],
        [4, 'group_renamed', a.userId, []],
        [5, 'description_changed', a.userId, []],
        [6, 'settings_changed', a.userId, []],
        [7, 'members_added', a.userId, [d.userId, e.userId]],
        [8, 'text', null, []],
        [9, 'member_removed', a.userId, [e.userId]],
        [10, 'member_left', d.userId, [d.userId]],
        [11, 'role_changed', c.userId, [a.userId]],
        [12, 'member_left', c.userId, [c.userId]],
        [13, 'admin_assigned', null, [a.userId]],
      ];
      const summarize = (m: Message): [number, string, string | null, string[]] => {
        if (m.type !== 'system') return [m.seq, m.type, null, []];
        const body = eventOf(m);
        return [m.seq, body.event, body.actorId, body.userIds];
      };

      // History, for a founding member who stayed.
      const all = await history(b, id);
      expect(all.map(summarize)).toEqual(expected);
      for (const m of all.filter((x) => x.type === 'system' && eventOf(x).actorId !== null))
        expect(m.senderId).toBe(eventOf(m).actorId);
      expect(eventOf(all[12])).toMatchObject({ reason: 'last_admin_left' });
      expect(eventOf(all[5])).toMatchObject({ settings: { onlyAdminsCanEditInfo: true } });

      // Live, in the same order, to a member who was connected throughout.
      await untilSeen(seenInGroup, 13);
      await sleep(100);
      expect(seenInGroup().map(summarize)).toEqual(expected);
      seenByA.stop();

      // Sync offers the same, except what the device sent itself.
      expect((await synced(b, id)).map(summarize)).toEqual(expected.filter(([seq]) => seq !== 8));
      expect((await getGroup(b, id)).members.map((m) => [m.userId, m.role]).sort()).toEqual(
        [
          [a.userId, 'admin'],
          [b.userId, 'member'],
        ].sort(),
      );
    });

    it('shows a member added later the group from the message announcing them', async () => {
      const [c, a, late] = await users(3);
      const socketLate = await open(late);
      const group = await createGroup(c, [a]); // 1
      const seenByLate = live(socketLate, group.id);
      const socketC = await open(c);
      await sent(socketC, group.id, 'before 1'); // 2
      await sent(socketC, group.id, 'before 2'); // 3
      await api(c, 'POST', `/groups/${group.id}/members`, { userIds: [late.userId] }); // 4
      const after = await sent(socketC, group.id, 'after'); // 5
      await untilSeen(() => seenByLate.messages, 5);
      await sleep(100);
      seenByLate.stop();
      // Live, too, from the announcement on.
      expect(seqs(seenByLate.messages)).toEqual([4, 5]);

      const mine = (await history(late, group.id)).map((m) => m.seq);
      expect(mine).toEqual([4, 5]);
      const latest = await api(late, 'GET', `/conversations/${group.id}/messages`);
      expect(seqs(latest.body.messages)).toEqual([4, 5]);
      expect(latest.body.hasMore).toBe(false);
      expect(await history(late, group.id, 'beforeSeq=4')).toEqual([]);
      expect(seqs(await history(late, group.id, 'afterSeq=1'))).toEqual([4, 5]);
      expect(seqs(await synced(late, group.id))).toEqual([4, 5]);
      const summary = await conversation(late, group.id);
      expect(summary).toMatchObject({ lastSeq: 5, unreadCount: 1, left: false });
      expect(seqs(await history(a, group.id))).toEqual([1, 2, 3, 4, 5]);
      expect(after.seq).toBe(5);
    });

    it('cuts a removed member off after the message announcing the removal', async () => {
      const [c, a, r] = await users(3);
      const group = await createGroup(c, [a, r]); // 1
      const [socketC, socketA, socketR] = await Promise.all([open(c), open(a), open(r)]);
      const seenByR = collect<Message>(socketR, 'message:new');
      await sent(socketC, group.id, 'before'); // 2
      expect((await api(c, 'DELETE', `/groups/${group.id}/members/${r.userId}`)).status).toBe(204); // 3
      await sent(socketC, group.id, 'after'); // 4
      const renamed = waitForSeq(socketA, group.id, 5);
      await api(a, 'PATCH', `/groups/${group.id}`, { name: 'Without R' }); // 5
      await renamed;
      await sleep(200);
      seenByR.stop();

      // Live: up to and including the removal.
      const liveR = seenByR.items.filter((m) => m.conversationId === group.id);
      expect(seqs(liveR)).toEqual([2, 3]);
      expect(eventOf(liveR[1])).toEqual({
        event: 'member_removed',
        actorId: c.userId,
        userIds: [r.userId],
      });
      // Sync and history: the same cut-off.
      expect(seqs(await synced(r, group.id))).toEqual([1, 2, 3]);
      expect(seqs(await history(r, group.id))).toEqual([1, 2, 3]);
      expect(seqs(await history(r, group.id, 'afterSeq=3'))).toEqual([]);
      const latest = await api(r, 'GET', `/conversations/${group.id}/messages?beforeSeq=100`);
      expect(seqs(latest.body.messages)).toEqual([1, 2, 3]);
      expect(await conversation(r, group.id)).toMatchObject({ left: true, lastSeq: 3 });
      // The group as it was when they left: no later rename, no later member count.
      expect(await conversation(r, group.id)).toMatchObject({ name: 'Group', memberCount: 2 });
      expect(await conversation(a, group.id)).toMatchObject({ name: 'Without R', memberCount: 2 });

      // Acks: up to the removal, yes; after it, no.
      expectAckError(await ack(socketR, group.id, 4), 'NOT_A_MEMBER');
      expectAckError(await ack(socketR, group.id, 5, 'read'), 'NOT_A_MEMBER');
      expect(await ack(socketR, group.id, 3)).toEqual({ ok: true });
      expect(await ack(socketR, group.id, 3, 'read')).toEqual({ ok: true });
      expect(await synced(r, group.id)).toEqual([]);

      // No sending, typing or reading the group either.
      expectAckError(await send(socketR, group.id), 'NOT_A_MEMBER');
      expectAckError(
        await request(socketR, 'typing', { conversationId: group.id, isTyping: true }),
        'NOT_A_MEMBER',
      );
      expectError(await api(r, 'GET', `/groups/${group.id}`), 'NOT_A_MEMBER');
      expect(await expectNoEvent(socketR, 'message:new', 100)).toBe(true);
      expect((await conversation(a, group.id)).lastSeq).toBe(5);

      // Added back, they see the group as it is now.
      const rejoined = await api(c, 'POST', `/groups/${group.id}/members`, { userIds: [r.userId] });
      expect(rejoined.status).toBe(200);
      expect(await conversation(r, group.id)).toMatchObject({
        left: false,
        name: 'Without R',
        memberCount: 3,
      });
    });

    it('makes the longest-standing member admin when the last admin leaves', async () => {
      const [c, m1, m2, m3] = await users(4);
      const group = await createGroup(c, [m1, m2]); // 1
      await api(c, 'POST', `/groups/${group.id}/members`, { userIds: [m3.userId] }); // 2
      const socketM3 = await open(m3);
      const seen = live(socketM3, group.id);

      const assigned = waitForSeq(socketM3, group.id, 4);
      expect((await api(c, 'DELETE', `/groups/${group.id}/members/${c.userId}`)).status).toBe(204);
      await assigned;
      expect(seen.messages.map((m) => [m.seq, eventOf(m)])).toEqual([
        [3, { event: 'member_left', actorId: c.userId, userIds: [c.userId] }],
        [
          4,
          {
            event: 'admin_assigned',
            actorId: null,
            userIds: [m1.userId],
            reason: 'last_admin_left',
          },
        ],
      ]);
      const after = await getGroup(m3, group.id);
      expect(after.members.map((m) => [m.userId, m.role]).sort()).toEqual(
        [
          [m1.userId, 'admin'],
          [m2.userId, 'member'],
          [m3.userId, 'member'],
        ].sort(),
      );
      // The heir now has admin powers.
      expect(
        (await api(m1, 'PATCH', `/groups/${group.id}`, { onlyAdminsCanSend: true })).status,
      ).toBe(200);

      // The heir leaves too: the next founder (m2) comes before the later addition (m3).
      await api(m1, 'DELETE', `/groups/${group.id}/members/${m1.userId}`);
      expect(roleOf(await getGroup(m3, group.id), m2)).toBe('admin');
      // An admin leaving while another admin remains hands nothing over.
      await api(m2, 'PUT', `/groups/${group.id}/members/${m3.userId}/role`, { role: 'admin' });
      const before = (await conversation(m3, group.id)).lastSeq;
      await api(m2, 'DELETE', `/groups/${group.id}/members/${m2.userId}`);
      const tail = await history(m3, group.id, `afterSeq=${before}`);
      expect(tail.map((m) => eventOf(m).event)).toEqual(['member_left']);
      seen.stop();
    });

    it('does not send the leaving last admin the admin_assigned that follows their departure', async () => {
      const [c, m] = await users(2);
      const group = await createGroup(c, [m]);
      const socketC = await open(c);
      const socketM = await open(m);
      const seenByC = live(socketC, group.id);
      const assigned = waitForSeq(socketM, group.id, 3);
      expect((await api(c, 'DELETE', `/groups/${group.id}/members/${c.userId}`)).status).toBe(204);
      await assigned;
      await sleep(200);
      seenByC.stop();
      // The leaver sees their own departure (seq 2) and nothing after it.
      expect(seqs(seenByC.messages)).toEqual([2]);
      expect(seqs(await history(c, group.id))).toEqual([1, 2]);
    });
  });

  describe('group receipts', () => {
    it('reports the lowest watermarks among the other active members, and receipts of those who could see', async () => {
      const [c, a, b, d] = await users(4);
      const group = await createGroup(c, [a, b]); // 1
      const [socketC, socketA, socketB] = await Promise.all([open(c), open(a), open(b)]);
      const m1 = await sent(socketC, group.id, 'one'); // 2
      const peers = async () => {
        const v = await conversation(c, group.id);
        return [v.peerDeliveredSeq, v.peerReadSeq];
      };
      expect(await peers()).toEqual([0, 0]);

      await ack(socketA, group.id, 2, 'delivered');
      expect(await peers()).toEqual([0, 0]);
      await ack(socketB, group.id, 2, 'read');
      expect(await peers()).toEqual([2, 0]);
      await ack(socketA, group.id, 2, 'read');
      expect(await peers()).toEqual([2, 2]);

      await api(c, 'POST', `/groups/${group.id}/members`, { userIds: [d.userId] }); // 3
      const socketD = await open(d);
      const m2 = await sent(socketC, group.id, 'two'); // 4
      await ack(socketA, group.id, 4, 'read');
      await ack(socketD, group.id, 4, 'read');
      // b lags behind at 2.
      expect(await peers()).toEqual([2, 2]);

      const receipts = async (messageId: string) => {
        const res = await api(c, 'GET', `/messages/${messageId}/receipts`);
        expect(res.status).toBe(200);
        return (res.body as Array<{ userId: string; status: string; at: string }>)
          .map((r) => [r.userId, r.status])
          .sort();
      };
      expect(await receipts(m1.id)).toEqual(
        [
          [a.userId, 'read'],
          [b.userId, 'read'],
        ].sort(),
      );
      expect(await receipts(m2.id)).toEqual(
        [
          [a.userId, 'read'],
          [b.userId, 'sent'],
          [d.userId, 'read'],
        ].sort(),
      );

      // Once b is removed, only a and d count for the peer watermarks; b still saw m2's era.
      await api(c, 'DELETE', `/groups/${group.id}/members/${b.userId}`); // 5
      expect(await peers()).toEqual([4, 4]);
      expect(await receipts(m2.id)).toEqual(
        [
          [a.userId, 'read'],
          [b.userId, 'sent'],
          [d.userId, 'read'],
        ].sort(),
      );
      const m3 = await sent(socketC, group.id, 'three'); // 6
      expect(await receipts(m3.id)).toEqual(
        [
          [a.userId, 'sent'],
          [d.userId, 'sent'],
        ].sort(),
      );
    });
  });
});
