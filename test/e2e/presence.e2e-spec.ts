import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { readProcessEnv } from '../../src/common/config/app-config';
import { EmbeddedPostgres } from '../../src/common/database/embedded-postgres';
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
import { http } from '../utils/http';
import { startServerProcess } from '../utils/processes';
import { startTestApp, type TestApp } from '../utils/test-app';
import { eventually } from '../utils/wait';

interface Presence {
  userId: string;
  online: boolean | null;
  lastSeen: string | null;
}

interface Typing {
  conversationId: string;
  userId: string;
  isTyping: boolean;
  expiresInMs: number;
}

type Privacy = 'everyone' | 'contacts' | 'nobody';

const GRACE_MS = 300;
const THROTTLE_MS = 500;
const ENV = {
  PRESENCE_GRACE_MS: String(GRACE_MS),
  TYPING_THROTTLE_MS: String(THROTTLE_MS),
};

const hidden = (userId: string): Presence => ({ userId, online: null, lastSeen: null });
const errorAck = (code: string) => ({ ok: false, error: expect.objectContaining({ code }) });

/** Helpers bound to running apps; `at` picks the instance a call goes to. */
function harness() {
  const opened: Socket[] = [];

  const user = (at: Pick<TestApp, 'api'>) => signIn(at);
  /** Another device of the same user. */
  const device = (at: Pick<TestApp, 'api'>, s: Session) => signIn(at, s.phone);
  const open = async (at: Pick<TestApp, 'url'>, s: Session) => {
    const socket = await connect(at, s.accessToken);
    opened.push(socket);
    return socket;
  };
  const closeAll = () => {
    for (const socket of opened.splice(0)) socket.close();
  };

  const api = async (
    at: Pick<TestApp, 'api'>,
    s: Session,
    method: string,
    path: string,
    body?: unknown,
  ) => http(at.api, method, path, { token: s.accessToken, body });

  const direct = async (at: Pick<TestApp, 'api'>, a: Session, b: Session): Promise<string> => {
    const res = await api(at, a, 'POST', '/conversations/direct', { userId: b.userId });
    if (res.status !== 200) throw new Error(`direct: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  };

  const group = async (
    at: Pick<TestApp, 'api'>,
    owner: Session,
    members: Session[],
  ): Promise<string> => {
    const res = await api(at, owner, 'POST', '/groups', {
      name: 'typing club',
      memberIds: members.map((m) => m.userId),
    });
    if (res.status !== 201) throw new Error(`group: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  };

  const setPrivacy = async (at: Pick<TestApp, 'api'>, s: Session, lastSeen: Privacy) => {
    const res = await api(at, s, 'PUT', '/users/me/privacy', { lastSeen, readReceipts: true });
    if (res.status !== 200) throw new Error(`privacy: ${res.status} ${JSON.stringify(res.body)}`);
  };

  const setContacts = async (at: Pick<TestApp, 'api'>, s: Session, contacts: Session[]) => {
    const res = await api(at, s, 'PUT', '/contacts', { phones: contacts.map((c) => c.phone) });
    if (res.status !== 200) throw new Error(`contacts: ${res.status} ${JSON.stringify(res.body)}`);
  };

  const presenceOf = (at: Pick<TestApp, 'api'>, viewer: Session, targetId: string) =>
    http<Presence & { code?: string }>(at.api, 'GET', `/users/${targetId}/presence`, {
      token: viewer.accessToken,
    });

  const subscribe = (socket: Socket, userIds: string[]) =>
    request(socket, 'presence:subscribe', { userIds });
  const unsubscribe = (socket: Socket, userIds: string[]) =>
    request(socket, 'presence:unsubscribe', { userIds });
  const typing = (socket: Socket, conversationId: string, isTyping: boolean) =>
    request(socket, 'typing', { conversationId, isTyping });

  /** Connects and disconnects the user once, so that they have a lastSeen. */
  const visitOnce = async (at: TestApp, s: Session): Promise<string> => {
    const socket = await open(at, s);
    socket.close();
    let lastSeen: string | null = null;
    await eventually(async () => {
      const res = await presenceOf(at, s, s.userId);
      expect(res.body.online).toBe(false);
      lastSeen = res.body.lastSeen;
      expect(lastSeen).not.toBeNull();
    });
    return lastSeen!;
  };

  return {
    user,
    device,
    open,
    closeAll,
    api,
    direct,
    group,
    setPrivacy,
    setContacts,
    presenceOf,
    subscribe,
    unsubscribe,
    typing,
    visitOnce,
  };
}

describe('presence and typing (e2e)', () => {
  let t: TestApp;
  const h = harness();

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
  });
  afterEach(() => h.closeAll());
  afterAll(async () => {
    h.closeAll();
    await t?.close();
  });

  describe('online, offline and lastSeen', () => {
    it('is online from the first device on, and offline only after the last one has been gone for the grace period', async () => {
      const [watcher, target] = await Promise.all([h.user(t), h.user(t)]);
      const target2 = await h.device(t, target);
      await h.direct(t, watcher, target);
      const w = await h.open(t, watcher);
      expect(await h.subscribe(w, [target.userId])).toEqual({
        ok: true,
        presence: [{ userId: target.userId, online: false, lastSeen: null }],
      });
      const events = collect<Presence>(w, 'presence');

      const first = await h.open(t, target);
      await eventually(() =>
        expect(events.items).toEqual([{ userId: target.userId, online: true, lastSeen: null }]),
      );
      const second = await h.open(t, target2);
      first.close();
      await sleep(GRACE_MS * 3);
      expect(events.items).toHaveLength(1); // one device is still there
      expect((await h.presenceOf(t, watcher, target.userId)).body.online).toBe(true);

      const closedAt = Date.now();
      const offline = nextEvent<Presence>(w, 'presence', (p) => p.online === false);
      second.close();
      const event = await offline;
      const heardAt = Date.now();
      expect(heardAt - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 20);
      expect(event.userId).toBe(target.userId);
      // lastSeen is when the last device left, not when the grace period ended.
      const lastSeen = Date.parse(event.lastSeen!);
      expect(lastSeen).toBeGreaterThanOrEqual(closedAt - 50);
      expect(lastSeen).toBeLessThanOrEqual(heardAt - GRACE_MS + 100);
      expect(events.items).toHaveLength(2);

      // Stored durably: REST and a fresh subscription agree.
      const rest = await h.presenceOf(t, watcher, target.userId);
      expect(rest.status).toBe(200);
      expect(rest.body).toEqual(event);
      const w2 = await h.open(t, watcher);
      expect(await h.subscribe(w2, [target.userId])).toEqual({ ok: true, presence: [event] });
    });

    it('does not flap when the last device reconnects within the grace period', async () => {
      const [watcher, target] = await Promise.all([h.user(t), h.user(t)]);
      await h.direct(t, watcher, target);
      const w = await h.open(t, watcher);
      await h.subscribe(w, [target.userId]);
      const online = nextEvent<Presence>(w, 'presence', (p) => p.online === true);
      const socket = await h.open(t, target);
      await online;

      const events = collect<Presence>(w, 'presence');
      socket.close();
      await sleep(GRACE_MS / 3);
      await h.open(t, target);
      await sleep(GRACE_MS * 3);
      expect(events.items).toEqual([]);
      expect((await h.presenceOf(t, watcher, target.userId)).body).toEqual({
        userId: target.userId,
        online: true,
        lastSeen: null,
      });
    });

    it('shows users their own presence', async () => {
      const me = await h.user(t);
      const lastSeen = await h.visitOnce(t, me);
      const socket = await h.open(t, me);
      expect(await h.subscribe(socket, [me.userId])).toEqual({
        ok: true,
        presence: [{ userId: me.userId, online: true, lastSeen }],
      });
    });
  });

  describe('who may watch whom', () => {
    it('gives strangers nulls and no events, in the ack and over REST', async () => {
      const [stranger, friend, target] = await Promise.all([h.user(t), h.user(t), h.user(t)]);
      await h.direct(t, friend, target);
      const s = await h.open(t, stranger);
      const f = await h.open(t, friend);
      expect(await h.subscribe(s, [target.userId])).toEqual({
        ok: true,
        presence: [hidden(target.userId)],
      });
      await h.subscribe(f, [target.userId]);
      const strangerEvents = collect<Presence>(s, 'presence');
      const seen = nextEvent<Presence>(f, 'presence', (p) => p.online === true);
      await h.open(t, target);
      await seen; // the change went out...
      await sleep(100);
      expect(strangerEvents.items).toEqual([]); // ...but not to the stranger
      expect((await h.presenceOf(t, stranger, target.userId)).body).toEqual(hidden(target.userId));
    });

    it('lets users watch their contacts and the members of their groups', async () => {
      const [viewer, contact, member, owner] = await Promise.all([
        h.user(t),
        h.user(t),
        h.user(t),
        h.user(t),
      ]);
      await h.setContacts(t, viewer, [contact]);
      await h.group(t, owner, [viewer, member]);
      await Promise.all([h.open(t, contact), h.open(t, member)]);
      const v = await h.open(t, viewer);
      await eventually(async () => {
        const ack = await h.subscribe(v, [contact.userId, member.userId]);
        expect(ack).toEqual({
          ok: true,
          presence: [
            { userId: contact.userId, online: true, lastSeen: null },
            { userId: member.userId, online: true, lastSeen: null },
          ],
        });
      });
    });

    it('refuses more than 500 ids and malformed ones with VALIDATION_FAILED', async () => {
      const viewer = await h.user(t);
      const v = await h.open(t, viewer);
      const ids = Array.from({ length: 501 }, () => randomUUID());
      expect(await h.subscribe(v, ids)).toEqual(errorAck('VALIDATION_FAILED'));
      expect(await h.unsubscribe(v, ids)).toEqual(errorAck('VALIDATION_FAILED'));
      expect(await h.subscribe(v, ['not-a-uuid'])).toEqual(errorAck('VALIDATION_FAILED'));
      expect(await request(v, 'presence:subscribe', {})).toEqual(errorAck('VALIDATION_FAILED'));
      expect(await request(v, 'presence:subscribe', { userIds: 'x' })).toEqual(
        errorAck('VALIDATION_FAILED'),
      );

      const fine = await h.subscribe(v, ids.slice(0, 500));
      expect(fine.ok).toBe(true);
      expect(fine.presence).toEqual(ids.slice(0, 500).map(hidden));
      expect(await h.subscribe(v, [])).toEqual({ ok: true, presence: [] });
    });

    it('answers REST for unknown users with NOT_FOUND and for bad ids with VALIDATION_FAILED', async () => {
      const viewer = await h.user(t);
      const unknown = await h.presenceOf(t, viewer, randomUUID());
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('NOT_FOUND');
      const bad = await h.presenceOf(t, viewer, 'nope');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      const anonymous = await http(t.api, 'GET', `/users/${viewer.userId}/presence`);
      expect(anonymous.status).toBe(401);
    });

    it('stops the events after presence:unsubscribe', async () => {
      const [watcher, other, target] = await Promise.all([h.user(t), h.user(t), h.user(t)]);
      await Promise.all([h.direct(t, watcher, target), h.direct(t, other, target)]);
      const w = await h.open(t, watcher);
      const o = await h.open(t, other);
      await Promise.all([h.subscribe(w, [target.userId]), h.subscribe(o, [target.userId])]);
      const online = nextEvent<Presence>(w, 'presence', (p) => p.online === true);
      const socket = await h.open(t, target);
      await online;

      expect(await h.unsubscribe(w, [target.userId])).toEqual({ ok: true });
      const events = collect<Presence>(w, 'presence');
      const offline = nextEvent<Presence>(o, 'presence', (p) => p.online === false);
      socket.close();
      await offline; // the other watcher heard it...
      await sleep(100);
      expect(events.items).toEqual([]); // ...the one who unsubscribed did not
    });
  });

  describe('privacy', () => {
    const settings: Privacy[] = ['everyone', 'contacts', 'nobody'];
    const cases = settings.flatMap((privacy) =>
      [true, false].flatMap((isContact) =>
        [false, true].map((viewerHides) => ({
          privacy,
          isContact,
          viewerHides,
          visible:
            !viewerHides && (privacy === 'everyone' || (privacy === 'contacts' && isContact)),
        })),
      ),
    );
    type Case = (typeof cases)[number];
    const label = (c: Case) =>
      `${c.privacy} / ${c.isContact ? 'in the target contacts' : 'not a contact'} / viewer ${c.viewerHides ? 'hides' : 'shares'} their own`;

    const targets = new Map<Privacy, { session: Session; lastSeen: string }>();
    const viewers = new Map<Case, Session>();

    beforeAll(async () => {
      for (const privacy of settings) {
        const target = await h.user(t);
        const mine = cases.filter((c) => c.privacy === privacy);
        const sessions = await Promise.all(mine.map(() => h.user(t)));
        await h.setContacts(
          t,
          target,
          sessions.filter((_, i) => mine[i].isContact),
        );
        await h.setPrivacy(t, target, privacy);
        for (const [i, c] of mine.entries()) {
          await h.direct(t, sessions[i], target);
          if (c.viewerHides) await h.setPrivacy(t, sessions[i], 'nobody');
          viewers.set(c, sessions[i]);
        }
        targets.set(privacy, { session: target, lastSeen: await h.visitOnce(t, target) });
      }
    });

    it.each(cases)(
      'REST and the ack apply it: $privacy, contact $isContact, viewer hides $viewerHides',
      async (c) => {
        const target = targets.get(c.privacy)!;
        const viewer = viewers.get(c)!;
        const expected: Presence = c.visible
          ? { userId: target.session.userId, online: false, lastSeen: target.lastSeen }
          : hidden(target.session.userId);
        expect({
          case: label(c),
          body: (await h.presenceOf(t, viewer, target.session.userId)).body,
        }).toEqual({
          case: label(c),
          body: expected,
        });
        const socket = await connect(t, viewer.accessToken);
        try {
          expect(await h.subscribe(socket, [target.session.userId])).toEqual({
            ok: true,
            presence: [expected],
          });
        } finally {
          socket.close();
        }
      },
    );

    it('pushes online changes only to the viewers allowed to see them', async () => {
      const heard = new Map<Case, Presence[]>();
      for (const [c, viewer] of viewers) {
        const socket = await h.open(t, viewer);
        await h.subscribe(socket, [targets.get(c.privacy)!.session.userId]);
        heard.set(c, collect<Presence>(socket, 'presence').items);
      }
      const online = [...targets.values()].map((x) => h.open(t, x.session));
      await Promise.all(online);
      await eventually(() => {
        for (const c of cases.filter((x) => x.visible)) {
          expect({ case: label(c), heard: heard.get(c) }).toEqual({
            case: label(c),
            heard: [
              {
                userId: targets.get(c.privacy)!.session.userId,
                online: true,
                lastSeen: targets.get(c.privacy)!.lastSeen,
              },
            ],
          });
        }
      });
      await sleep(100);
      for (const c of cases.filter((x) => !x.visible)) {
        expect({ case: label(c), heard: heard.get(c) }).toEqual({ case: label(c), heard: [] });
      }
    });

    it('pushes a privacy change to the viewers it affects, both ways', async () => {
      const [viewer, target] = await Promise.all([h.user(t), h.user(t)]);
      await h.direct(t, viewer, target);
      await h.open(t, target);
      const v = await h.open(t, viewer);
      await eventually(async () =>
        expect((await h.subscribe(v, [target.userId])).presence[0].online).toBe(true),
      );

      let next = nextEvent<Presence>(v, 'presence');
      await h.setPrivacy(t, target, 'nobody');
      expect(await next).toEqual(hidden(target.userId));

      next = nextEvent<Presence>(v, 'presence');
      await h.setPrivacy(t, target, 'everyone');
      expect(await next).toEqual({ userId: target.userId, online: true, lastSeen: null });

      // Reciprocity: hiding one's own last seen hides everyone else's from them.
      next = nextEvent<Presence>(v, 'presence');
      await h.setPrivacy(t, viewer, 'nobody');
      expect(await next).toEqual(hidden(target.userId));
    });

    it('hides presence from users the target blocked', async () => {
      const [viewer, target] = await Promise.all([h.user(t), h.user(t)]);
      await h.direct(t, viewer, target);
      await h.open(t, target);
      await eventually(async () =>
        expect((await h.presenceOf(t, viewer, target.userId)).body.online).toBe(true),
      );
      expect((await h.api(t, target, 'POST', `/users/${viewer.userId}/block`)).status).toBe(204);
      expect((await h.presenceOf(t, viewer, target.userId)).body).toEqual(hidden(target.userId));
      // The block is one-way: the target still sees the viewer.
      expect((await h.presenceOf(t, target, viewer.userId)).body.online).toBe(false);
    });
  });

  describe('typing', () => {
    it('relays to the other members’ devices, not to the typist’s own', async () => {
      const [a, b, c] = await Promise.all([h.user(t), h.user(t), h.user(t)]);
      const [a2, b2] = await Promise.all([h.device(t, a), h.device(t, b)]);
      const conversationId = await h.group(t, a, [b, c]);
      const [sa, sa2, sb, sb2, sc] = await Promise.all([a, a2, b, b2, c].map((s) => h.open(t, s)));
      const expected: Typing = {
        conversationId,
        userId: a.userId,
        isTyping: true,
        expiresInMs: t.config.typing.ttlMs,
      };
      const received = [sb, sb2, sc].map((s) => nextEvent<Typing>(s, 'typing'));
      const ownQuiet = [sa, sa2].map((s) => expectNoEvent(s, 'typing', 300));
      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true });
      for (const got of await Promise.all(received)) expect(got).toEqual(expected);
      expect(await Promise.all(ownQuiet)).toEqual([true, true]);
    });

    it('relays at most one start per throttle window, and every stop', async () => {
      const [a, b] = await Promise.all([h.user(t), h.user(t)]);
      const conversationId = await h.direct(t, a, b);
      const [sa, sb] = await Promise.all([h.open(t, a), h.open(t, b)]);
      const heard = collect<Typing>(sb, 'typing');

      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true });
      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true, throttled: true });
      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true, throttled: true });
      expect(await h.typing(sa, conversationId, false)).toEqual({ ok: true });
      expect(await h.typing(sa, conversationId, false)).toEqual({ ok: true });
      await eventually(() =>
        expect(heard.items.map((e) => e.isTyping)).toEqual([true, false, false]),
      );

      await sleep(THROTTLE_MS + 50);
      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true });
      await eventually(() =>
        expect(heard.items.map((e) => e.isTyping)).toEqual([true, false, false, true]),
      );
    });

    it('refuses non-members, unknown conversations and bad input', async () => {
      const [a, b, outsider] = await Promise.all([h.user(t), h.user(t), h.user(t)]);
      const conversationId = await h.direct(t, a, b);
      const so = await h.open(t, outsider);
      const sb = await h.open(t, b);
      const quiet = expectNoEvent(sb, 'typing', 300);
      expect(await h.typing(so, conversationId, true)).toEqual(errorAck('NOT_A_MEMBER'));
      expect(await h.typing(so, conversationId, true)).toEqual(errorAck('NOT_A_MEMBER'));
      expect(await h.typing(so, randomUUID(), true)).toEqual(errorAck('NOT_FOUND'));
      expect(await request(so, 'typing', { conversationId })).toEqual(
        errorAck('VALIDATION_FAILED'),
      );
      expect(await request(so, 'typing', { conversationId: 'x', isTyping: true })).toEqual(
        errorAck('VALIDATION_FAILED'),
      );
      expect(await request(so, 'typing', { conversationId, isTyping: 'yes' })).toEqual(
        errorAck('VALIDATION_FAILED'),
      );
      expect(await quiet).toBe(true);
    });

    it('refuses members who left a group', async () => {
      const [owner, leaver] = await Promise.all([h.user(t), h.user(t)]);
      const groupId = await h.group(t, owner, [leaver]);
      const res = await h.api(t, leaver, 'DELETE', `/groups/${groupId}/members/${leaver.userId}`);
      expect(res.status).toBeLessThan(300);
      const socket = await h.open(t, leaver);
      expect(await h.typing(socket, groupId, true)).toEqual(errorAck('NOT_A_MEMBER'));
    });

    it('does not relay to a direct peer who blocked the typist, without telling the typist', async () => {
      const [a, b] = await Promise.all([h.user(t), h.user(t)]);
      const conversationId = await h.direct(t, a, b);
      expect((await h.api(t, b, 'POST', `/users/${a.userId}/block`)).status).toBe(204);
      const [sa, sb] = await Promise.all([h.open(t, a), h.open(t, b)]);
      const quiet = expectNoEvent(sb, 'typing', 300);
      expect(await h.typing(sa, conversationId, true)).toEqual({ ok: true });
      expect(await quiet).toBe(true);
      // The other way round still works: a did not block b.
      const heard = nextEvent<Typing>(sa, 'typing');
      expect(await h.typing(sb, conversationId, true)).toEqual({ ok: true });
      expect((await heard).userId).toBe(b.userId);
    });
  });
});

// Two instances in one process sharing the database and Redis: registered only when Redis
// is configured, since without it instances cannot hear each other.
const clusterSuites = readProcessEnv('REDIS_URL')
  ? ['presence across two instances sharing the database and Redis (e2e)']
  : [];

for (const title of clusterSuites) {
  describe(title, () => {
    let a: TestApp;
    let b: TestApp;
    const h = harness();

    beforeAll(async () => {
      a = await startTestApp({ env: ENV });
      const sharedDatabase = a.config.database.url ?? a.app.get(EmbeddedPostgres).url;
      b = await startTestApp({
        env: { ...ENV, DATABASE_POOL_SIZE: '2', REDIS_KEY_PREFIX: a.config.redis.keyPrefix },
        databaseUrl: sharedDatabase,
      });
    });
    afterEach(() => h.closeAll());
    afterAll(async () => {
      h.closeAll();
      await b?.close();
      await a?.close();
    });

    it('shows a subscriber on B a user connected to A going online and offline', async () => {
      const [watcher, target] = await Promise.all([h.user(b), h.user(a)]);
      await h.direct(a, target, watcher);
      const w = await h.open(b, watcher);
      expect(await h.subscribe(w, [target.userId])).toEqual({
        ok: true,
        presence: [{ userId: target.userId, online: false, lastSeen: null }],
      });
      const online = nextEvent<Presence>(w, 'presence');
      const socket = await h.open(a, target);
      expect(await online).toEqual({ userId: target.userId, online: true, lastSeen: null });

      const offline = nextEvent<Presence>(w, 'presence');
      const closedAt = Date.now();
      socket.close();
      const event = await offline;
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 20);
      expect(event).toMatchObject({ userId: target.userId, online: false });
      expect(Date.parse(event.lastSeen!)).toBeGreaterThanOrEqual(closedAt - 50);
      expect((await h.presenceOf(b, watcher, target.userId)).body).toEqual(event);
    });

    it('does not flap when a user moves from A to B within the grace period', async () => {
      const [watcher, target] = await Promise.all([h.user(b), h.user(a)]);
      await h.direct(a, target, watcher);
      const w = await h.open(b, watcher);
      await h.subscribe(w, [target.userId]);
      const online = nextEvent<Presence>(w, 'presence');
      const onA = await h.open(a, target);
      await online;

      const events = collect<Presence>(w, 'presence');
      onA.close();
      await sleep(GRACE_MS / 3);
      await h.open(b, target);
      await sleep(GRACE_MS * 3);
      expect(events.items).toEqual([]);
      expect((await h.presenceOf(a, watcher, target.userId)).body.online).toBe(true);
    });

    it('relays typing to members connected to the other instance', async () => {
      const [typist, peer] = await Promise.all([h.user(a), h.user(b)]);
      const conversationId = await h.direct(a, typist, peer);
      const [st, sp] = await Promise.all([h.open(a, typist), h.open(b, peer)]);
      const heard = nextEvent<Typing>(sp, 'typing');
      expect(await h.typing(st, conversationId, true)).toEqual({ ok: true });
      expect(await heard).toMatchObject({ conversationId, userId: typist.userId, isTyping: true });
      // The throttle is shared: the typist's other device on B is throttled too.
      const other = await h.device(b, typist);
      const so = await h.open(b, other);
      expect(await h.typing(so, conversationId, true)).toEqual({ ok: true, throttled: true });
    });

    it('pushes a privacy change made through A to viewers on B', async () => {
      const [viewer, target] = await Promise.all([h.user(b), h.user(a)]);
      await h.direct(a, target, viewer);
      await h.open(a, target);
      const v = await h.open(b, viewer);
      await eventually(async () =>
        expect((await h.subscribe(v, [target.userId])).presence[0].online).toBe(true),
      );
      const next = nextEvent<Presence>(v, 'presence');
      await h.setPrivacy(a, target, 'nobody');
      expect(await next).toEqual(hidden(target.userId));
    });
  });
}

// A real second process that is killed (no disconnects, no goodbye): its users must go
// offline by themselves once its heartbeat key expires. Needs PostgreSQL and Redis that a
// child process can reach.
const crashSuites =
  readProcessEnv('REDIS_URL') && readProcessEnv('DATABASE_URL')
    ? ['presence when an instance crashes (e2e)']
    : [];

for (const title of crashSuites) {
  describe(title, () => {
    const TTL_MS = 2000;
    const crashEnv = {
      ...ENV,
      PRESENCE_TTL_MS: String(TTL_MS),
      PRESENCE_HEARTBEAT_MS: '500',
    };
    let survivor: TestApp;
    const h = harness();

    beforeAll(async () => {
      survivor = await startTestApp({ env: crashEnv });
    });
    afterAll(async () => {
      h.closeAll();
      await survivor?.close();
    });

    it('takes the users of a killed instance offline after the TTL, with their last heartbeat as lastSeen', async () => {
      const doomed = await startServerProcess({
        ...crashEnv,
        DATABASE_URL: survivor.config.database.url!,
        REDIS_URL: survivor.config.redis.url!,
        DATABASE_RUN_MIGRATIONS: 'false',
      });
      try {
        const [watcher, target] = await Promise.all([h.user(survivor), h.user(survivor)]);
        await h.direct(survivor, watcher, target);
        const w = await h.open(survivor, watcher);
        await h.subscribe(w, [target.userId]);
        const online = nextEvent<Presence>(w, 'presence');
        await h.open(doomed, target);
        expect(await online).toMatchObject({ online: true });

        const offline = nextEvent<Presence>(w, 'presence', () => true, TTL_MS * 4);
        const killedAt = Date.now();
        await doomed.kill();
        const event = await offline;
        expect(event).toMatchObject({ userId: target.userId, online: false });
        expect(Date.now() - killedAt).toBeGreaterThanOrEqual(TTL_MS - 600);
        expect(Date.parse(event.lastSeen!)).toBeLessThanOrEqual(killedAt + 50);
        expect((await h.presenceOf(survivor, watcher, target.userId)).body).toEqual(event);
      } finally {
        await doomed.kill();
      }
    });
  });
}
