import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { pdf } from '../fixtures/media-files';
import { clientsOf, errorAck, eventually, type Message } from '../utils/chat-clients';
import { collect, expectNoEvent, sleep, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { uploadMedia as upload } from '../utils/media';
import { startTestApp, type TestApp } from '../utils/test-app';

interface FeatureMessage extends Omit<Message, 'body'> {
  body: string | null;
  targetId: string | null;
  forwardScore: number;
  reactions?: Array<{ emoji: string; userIds: string[] }>;
}

/** What a client shows of one message once every event it knows of is applied. */
interface Shown {
  body: string | null;
  mediaId: string | null;
  edited: boolean;
  deleted: boolean;
  reactions: Record<string, string>;
}

/** A client's replay of the seq stream: edits, deletes and reactions applied to their targets. */
function replay(messages: FeatureMessage[]): Record<string, Shown> {
  const shown: Record<string, Shown> = {};
  const ordered = [...messages].sort((a, b) => a.seq - b.seq);
  for (const m of ordered) {
    const target = m.targetId ? shown[m.targetId] : undefined;
    if (m.type === 'edit') {
      if (target && !target.deleted) Object.assign(target, { body: m.body, edited: true });
    } else if (m.type === 'delete') {
      if (target)
        Object.assign(target, {
          body: null,
          mediaId: null,
          edited: false,
          deleted: true,
          reactions: {},
        });
    } else if (m.type === 'reaction') {
      if (!target || target.deleted) continue;
      if (m.body) target.reactions[m.senderId] = m.body;
      else delete target.reactions[m.senderId];
    } else {
      shown[m.id] = {
        body: m.body,
        mediaId: m.mediaId,
        edited: m.editedAt !== null,
        deleted: m.deletedAt !== null,
        reactions: {},
      };
    }
  }
  return shown;
}

/** The same picture from a history read, which carries the final state itself. */
function fromHistory(messages: FeatureMessage[]): Record<string, Shown> {
  const shown: Record<string, Shown> = {};
  for (const m of messages) {
    if (['edit', 'delete', 'reaction', 'system'].includes(m.type)) continue;
    const reactions: Record<string, string> = {};
    for (const r of m.reactions ?? []) for (const u of r.userIds) reactions[u] = r.emoji;
    shown[m.id] = {
      body: m.body,
      mediaId: m.mediaId,
      edited: m.editedAt !== null,
      deleted: m.deletedAt !== null,
      reactions,
    };
  }
  return shown;
}

function features(getApp: () => TestApp) {
  const c = clientsOf(getApp);
  const api = (s: Session, method: string, path: string, body?: unknown) =>
    http(getApp().api, method, path, { token: s.accessToken, body });

  const group = async (creator: Session, members: Session[]): Promise<string> => {
    const res = await api(creator, 'POST', '/groups', {
      name: 'Features',
      memberIds: members.map((m) => m.userId),
    });
    if (res.status !== 201) throw new Error(`group: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  };

  const sendF = async (socket: Socket, payload: Record<string, unknown>) =>
    await c.send(socket, payload);

  const historyOf = async (s: Session, conversationId: string) => {
    const res = await c.history(s, conversationId, '?limit=100');
    expect(res.status).toBe(200);
    return res.body.messages as unknown as FeatureMessage[];
  };

  const lastSeq = async (s: Session, conversationId: string) =>
    (await c.conversation(s, conversationId)).lastSeq as number;

  /**
   * A refused send: the error code, no seq taken, nothing delivered to the watcher.
   */
  const expectRefused = async (
    socket: Socket,
    s: Session,
    conversationId: string,
    watcher: Socket,
    payload: Record<string, unknown>,
    code: string,
  ) => {
    const before = await lastSeq(s, conversationId);
    const seen = collect(watcher, 'message:new');
    expect(await c.trySend(socket, { conversationId, ...payload })).toEqual(errorAck(code));
    await sleep(150);
    seen.stop();
    expect(seen.items).toEqual([]);
    expect(await lastSeq(s, conversationId)).toBe(before);
  };

  return { ...c, api, group, sendF, historyOf, lastSeq, expectRefused };
}

describe('message features (e2e)', () => {
  let t: TestApp;
  const f = features(() => t);

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(() => f.closeAll());
  afterAll(async () => {
    await t.close();
  });

  it('edits, deletes and reactions reach online devices live and offline devices through sync, and every device ends with the state history shows', async () => {
    const alice = await f.user();
    const bob = await f.user();
    const alice2 = await f.device(alice);
    const bob2 = await f.device(bob);
    const conversationId = await f.direct(alice, bob);
    const a1 = await f.open(alice);
    const b1 = await f.open(bob);
    const liveA = collect<FeatureMessage>(a1, 'message:new');
    const liveB = collect<FeatureMessage>(b1, 'message:new');

    const sentByAlice: FeatureMessage[] = [];
    const sentByBob: FeatureMessage[] = [];
    const asAlice = async (payload: Record<string, unknown>) => {
      const m = await f.sendF(a1, { conversationId, ...payload });
      sentByAlice.push(m);
      return m;
    };
    const asBob = async (payload: Record<string, unknown>) => {
      const m = await f.sendF(b1, { conversationId, ...payload });
      sentByBob.push(m);
      return m;
    };

    const hello = await asAlice({ body: 'helo' });
    const second = await asAlice({ body: 'wrong chat' });
    const kept = await asBob({ body: 'from bob' });
    const thumbs = await asBob({ type: 'reaction', targetId: hello.id, body: '👍' });
    expect(thumbs).toMatchObject({ type: 'reaction', targetId: hello.id, forwardScore: 0 });
    const edit = await asAlice({ type: 'edit', targetId: hello.id, body: 'hello' });
    expect(edit).toMatchObject({ type: 'edit', targetId: hello.id, body: 'hello' });
    await asBob({ type: 'reaction', targetId: hello.id, body: '❤️' }); // replaces 👍
    await asAlice({ type: 'reaction', targetId: hello.id, body: '😂' });
    await asAlice({ type: 'reaction', targetId: kept.id, body: '🔥' });
    await asAlice({ type: 'reaction', targetId: kept.id, body: '' }); // removed
    await asBob({ type: 'reaction', targetId: second.id, body: '😮' });
    const del = await asAlice({ type: 'delete', targetId: second.id });
    expect(del).toMatchObject({ type: 'delete', targetId: second.id, body: '' });

    // Live: each side got every event of the other, in seq order.
    await eventually(() => {
      expect(liveA.items.map((m) => m.id)).toEqual(sentByBob.map((m) => m.id));
      expect(liveB.items.map((m) => m.id)).toEqual(sentByAlice.map((m) => m.id));
    });
    expect(liveB.items.find((m) => m.id === edit.id)).toMatchObject({
      type: 'edit',
      targetId: hello.id,
      body: 'hello',
    });
    expect(liveB.items[0]).not.toHaveProperty('reactions');

    // History shows the final state, and the events in seq order.
    const history = await f.historyOf(bob, conversationId);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
    const byId = new Map(history.map((m) => [m.id, m]));
    expect(byId.get(hello.id)).toMatchObject({
      body: 'hello',
      editedAt: expect.any(String),
      deletedAt: null,
      reactions: [
        { emoji: '❤️', userIds: [bob.userId] },
        { emoji: '😂', userIds: [alice.userId] },
      ],
    });
    expect(byId.get(second.id)).toMatchObject({
      body: null,
      mediaId: null,
      deletedAt: expect.any(String),
      reactions: [],
    });
    expect(byId.get(kept.id)).toMatchObject({ body: 'from bob', reactions: [] });
    // What was deleted cannot be read from its reactions either.
    expect(history.filter((m) => m.targetId === second.id && m.type === 'reaction')).toEqual([
      expect.objectContaining({ body: null, deletedAt: expect.any(String) }),
    ]);

    const expected = fromHistory(history);
    expect(fromHistory(await f.historyOf(alice, conversationId))).toEqual(expected);
    // Online devices: what they sent plus what they received live.
    expect(replay([...sentByAlice, ...liveA.items])).toEqual(expected);
    expect(replay([...sentByBob, ...liveB.items])).toEqual(expected);
    // Offline devices: everything through sync, in seq order, once.
    for (const s of [alice2, bob2]) {
      const socket = await f.open(s);
      const synced = (await f.drain(socket)).filter(
        (m) => m.conversationId === conversationId,
      ) as unknown as FeatureMessage[];
      expect(synced.map((m) => m.seq)).toEqual(history.map((m) => m.seq));
      expect(replay(synced)).toEqual(expected);
      expect(await f.sync(socket)).toEqual({ ok: true, messages: [], hasMore: false });
    }
  }, 60_000);

  it('accepts an edit, a reaction and a delete over REST, idempotent by clientMsgId', async () => {
    const alice = await f.user();
    const bob = await f.user();
    const conversationId = await f.direct(alice, bob);
    const b1 = await f.open(bob);
    const target = (await f.post(alice, { conversationId, body: 'typo' })).body;
    const payload = {
      clientMsgId: randomUUID(),
      conversationId,
      type: 'edit',
      targetId: target.id,
      body: 'fixed',
    };
    const live = collect<FeatureMessage>(b1, 'message:new');
    const first = await f.post(alice, payload);
    expect(first.status).toBe(201);
    const again = await f.post(alice, { ...payload, body: 'ignored' });
    expect(again.body.id).toBe(first.body.id);
    await eventually(() => expect(live.items.map((m) => m.id)).toEqual([first.body.id]));
    const react = await f.post(bob, {
      conversationId,
      type: 'reaction',
      targetId: target.id,
      body: '🇫🇷',
    });
    expect(react.status).toBe(201);
    const del = await f.post(alice, { conversationId, type: 'delete', targetId: target.id });
    expect(del.status).toBe(201);
    const history = await f.historyOf(bob, conversationId);
    expect(history.map((m) => m.type)).toEqual(['text', 'edit', 'reaction', 'delete']);
    expect(history[0]).toMatchObject({ body: null, deletedAt: expect.any(String), editedAt: null });
    expect(history[1]).toMatchObject({ body: null, deletedAt: expect.any(String) });
  });

  it('refuses bad edits, deletes, reactions and replies: each with its code, storing and delivering nothing', async () => {
    const alice = await f.user();
    const bob = await f.user();
    const carol = await f.user();
    const conversationId = await f.direct(alice, bob);
    const elsewhere = await f.direct(alice, carol);
    const a = await f.open(alice);
    const b = await f.open(bob);
    const mine = await f.sendF(a, { conversationId, body: 'from alice' });
    const other = await f.sendF(a, { conversationId: elsewhere, body: 'to carol' });
    const reaction = await f.sendF(b, {
      conversationId,
      type: 'reaction',
      targetId: mine.id,
      body: '👍',
    });

    const refused = (
      socket: Socket,
      s: Session,
      watcher: Socket,
      p: Record<string, unknown>,
      code: string,
    ) => f.expectRefused(socket, s, conversationId, watcher, p, code);
    // Someone else's message.
    await refused(b, bob, a, { type: 'edit', targetId: mine.id, body: 'x' }, 'FORBIDDEN');
    await refused(b, bob, a, { type: 'delete', targetId: mine.id }, 'FORBIDDEN');
    // Unknown and cross-conversation targets, and replies into another conversation.
    await refused(
      a,
      alice,
      b,
      { type: 'edit', targetId: '0193a4c2-1234-7abc-8def-0123456789ab', body: 'x' },
      'NOT_FOUND',
    );
    await refused(a, alice, b, { type: 'delete', targetId: other.id }, 'NOT_FOUND');
    await refused(b, bob, a, { type: 'reaction', targetId: other.id, body: '👍' }, 'NOT_FOUND');
    await refused(a, alice, b, { body: 'reply', replyToId: other.id }, 'NOT_FOUND');
    // A target that is itself an event, or a system message.
    await refused(
      a,
      alice,
      b,
      { type: 'reaction', targetId: reaction.id, body: '👍' },
      'VALIDATION_FAILED',
    );
    await refused(b, bob, a, { type: 'delete', targetId: reaction.id }, 'VALIDATION_FAILED');
    // Not one emoji; a delete with a body; an edit emptying a text; a missing target.
    for (const body of ['👍👍', 'ok', '👍 ', 'a'.repeat(40)])
      await refused(b, bob, a, { type: 'reaction', targetId: mine.id, body }, 'VALIDATION_FAILED');
    await refused(
      a,
      alice,
      b,
      { type: 'delete', targetId: mine.id, body: 'x' },
      'VALIDATION_FAILED',
    );
    await refused(a, alice, b, { type: 'edit', targetId: mine.id, body: '' }, 'VALIDATION_FAILED');
    await refused(a, alice, b, { type: 'edit', body: 'x' }, 'VALIDATION_FAILED');
    await refused(a, alice, b, { body: 'x', targetId: mine.id }, 'VALIDATION_FAILED');

    // A forward of a message the sender cannot read.
    await refused(b, bob, a, { forwardOf: other.id, type: undefined }, 'NOT_FOUND');
  });

  it('lets group admins (the creator included) delete any message at any time, and other members only their own', async () => {
    const owner = await f.user();
    const admin = await f.user();
    const member = await f.user();
    const groupId = await f.group(owner, [admin, member]);
    expect(
      (
        await f.api(owner, 'PUT', `/groups/${groupId}/members/${admin.userId}/role`, {
          role: 'admin',
        })
      ).status,
    ).toBeLessThan(300);
    const o = await f.open(owner);
    const ad = await f.open(admin);
    const m = await f.open(member);
    const byOwner = await f.sendF(o, { conversationId: groupId, body: 'owner' });
    const byMember = await f.sendF(m, { conversationId: groupId, body: 'member' });
    const byMember2 = await f.sendF(m, { conversationId: groupId, body: 'member 2' });

    await f.expectRefused(
      m,
      member,
      groupId,
      o,
      { type: 'delete', targetId: byOwner.id },
      'FORBIDDEN',
    );
    const system = (await f.historyOf(owner, groupId)).find((x) => x.type === 'system')!;
    await f.expectRefused(
      o,
      owner,
      groupId,
      m,
      { type: 'reaction', targetId: system.id, body: '👍' },
      'VALIDATION_FAILED',
    );
    await f.expectRefused(
      ad,
      admin,
      groupId,
      o,
      { type: 'edit', targetId: byMember.id, body: 'x' },
      'FORBIDDEN',
    );
    const live = collect<FeatureMessage>(m, 'message:new');
    const byAdmin = await f.sendF(ad, {
      conversationId: groupId,
      type: 'delete',
      targetId: byMember.id,
    });
    const byCreator = await f.sendF(o, {
      conversationId: groupId,
      type: 'delete',
      targetId: byMember2.id,
    });
    await eventually(() => expect(live.items.map((x) => x.id)).toEqual([byAdmin.id, byCreator.id]));
    const history = await f.historyOf(member, groupId);
    for (const id of [byMember.id, byMember2.id])
      expect(history.find((x) => x.id === id)).toMatchObject({
        body: null,
        deletedAt: expect.any(String),
      });
    // Deleting a deleted message again finds nothing to delete.
    await f.expectRefused(
      o,
      owner,
      groupId,
      m,
      { type: 'delete', targetId: byMember.id },
      'NOT_FOUND',
    );
  });

  it('allows at most 20 distinct emojis on a message: the 21st is CONFLICT, joining an existing one is fine', async () => {
    const owner = await f.user();
    const members = await Promise.all(Array.from({ length: 21 }, () => f.user()));
    const groupId = await f.group(owner, members);
    const o = await f.open(owner);
    const target = await f.sendF(o, { conversationId: groupId, body: 'react to me' });
    const emojis = [
      '😀',
      '😃',
      '😄',
      '😁',
      '😆',
      '😅',
      '🤣',
      '😂',
      '🙂',
      '🙃',
      '😉',
      '😊',
      '😇',
      '🥰',
      '😍',
      '🤩',
      '😘',
      '😗',
      '😚',
      '😙',
    ];
    await Promise.all(
      members.slice(0, 20).map((s, i) =>
        f
          .post(s, {
            conversationId: groupId,
            type: 'reaction',
            targetId: target.id,
            body: emojis[i],
          })
          .then((r) => expect(r.status).toBe(201)),
      ),
    );
    const last = members[20];
    const socket = await f.open(last);
    await f.expectRefused(
      socket,
      last,
      groupId,
      o,
      { type: 'reaction', targetId: target.id, body: '🤯' },
      'CONFLICT',
    );
    await f.sendF(socket, {
      conversationId: groupId,
      type: 'reaction',
      targetId: target.id,
      body: '😀',
    });
    const shown = (await f.historyOf(owner, groupId)).find((m) => m.id === target.id)!;
    expect(shown.reactions).toHaveLength(20);
    // The 20 were sent at once, so their order is the server's: look the emoji up.
    expect(shown.reactions!.find((r) => r.emoji === '😀')).toEqual({
      emoji: '😀',
      userIds: expect.arrayContaining([members[0].userId, last.userId]),
    });
  }, 60_000);

  it('forwards: copies the content, counts hops, and limits the chats per source message', async () => {
    const alice = await f.user();
    const friends = await Promise.all(Array.from({ length: 7 }, () => f.user()));
    const chats = await Promise.all(friends.map((u) => f.direct(alice, u)));
    const a = await f.open(alice);
    const original = await f.sendF(a, { conversationId: chats[0], body: 'pass it on' });

    const fwd = (source: string, conversationId: string, extra: Record<string, unknown> = {}) =>
      f.trySend(a, { conversationId, forwardOf: source, type: undefined, ...extra });
    const first = await fwd(original.id, chats[1]);
    expect(first.message).toMatchObject({
      type: 'text',
      body: 'pass it on',
      forwardScore: 1,
      targetId: null,
    });
    // An E2E client's own body is taken as given.
    const reencrypted = await fwd(original.id, chats[2], { body: 'ciphertext' });
    expect(reencrypted.message).toMatchObject({ body: 'ciphertext', forwardScore: 1 });
    for (const chat of chats.slice(3, 6)) expect((await fwd(original.id, chat)).ok).toBe(true);
    // The same chat again is not a new one; a sixth is refused.
    expect((await fwd(original.id, chats[1])).ok).toBe(true);
    const w = await f.open(friends[6]);
    const before = await f.lastSeq(alice, chats[6]);
    const refused = await fwd(original.id, chats[6]);
    expect(refused).toEqual(errorAck('RATE_LIMITED'));
    expect(refused.error.retryAfterMs).toBeGreaterThan(0);
    expect(await expectNoEvent(w, 'message:new', 150)).toBe(true);
    expect(await f.lastSeq(alice, chats[6])).toBe(before);
    // A type that is not the source's is refused.
    expect(await fwd(first.message.id, chats[6], { type: 'image' })).toEqual(
      errorAck('VALIDATION_FAILED'),
    );

    // Five hops make "forwarded many times": then one chat per minute.
    let source = original.id;
    for (let hop = 1; hop <= 5; hop++) {
      const next = await fwd(source, chats[hop % 2]);
      expect(next.message.forwardScore).toBe(hop);
      source = next.message.id;
    }
    expect((await fwd(source, chats[3])).message.forwardScore).toBe(6);
    expect(await fwd(source, chats[4])).toEqual(errorAck('RATE_LIMITED'));
  }, 60_000);

  it('forwarded media reaches the new audience; a deleted message’s media is served to no one unless still shared elsewhere', async () => {
    const alice = await f.user();
    const bob = await f.user();
    const carol = await f.user();
    const ab = await f.direct(alice, bob);
    const bc = await f.direct(bob, carol);
    const a = await f.open(alice);
    const b = await f.open(bob);
    const get = (s: Session, mediaId: string) => f.api(s, 'GET', `/media/${mediaId}`);

    const shared = await upload(t, alice.accessToken, pdf(0, 11), 'a.pdf', 'application/pdf');
    expect(shared.status).toBe(201);
    const sharedId = shared.body.mediaId as string;
    const sent = await f.sendF(a, {
      conversationId: ab,
      type: 'document',
      mediaId: sharedId,
      body: 'doc',
    });
    expect((await get(carol, sharedId)).status).toBe(403);
    const forwarded = await f.sendF(b, { conversationId: bc, forwardOf: sent.id, type: undefined });
    expect(forwarded).toMatchObject({
      type: 'document',
      mediaId: sharedId,
      body: 'doc',
      forwardScore: 1,
    });
    expect((await get(carol, sharedId)).status).toBe(200);
    // The original is deleted; the forward still shares the same bytes.
    await f.sendF(a, { conversationId: ab, type: 'delete', targetId: sent.id });
    expect((await get(carol, sharedId)).status).toBe(200);
    expect((await get(bob, sharedId)).status).toBe(200);

    const only = await upload(t, alice.accessToken, pdf(0, 12), 'b.pdf', 'application/pdf');
    const onlyId = only.body.mediaId as string;
    const once = await f.sendF(a, { conversationId: ab, type: 'document', mediaId: onlyId });
    // A caption can be edited.
    const caption = await f.sendF(a, {
      conversationId: ab,
      type: 'edit',
      targetId: once.id,
      body: 'caption',
    });
    expect(caption.type).toBe('edit');
    expect((await get(bob, onlyId)).status).toBe(200);
    await f.sendF(a, { conversationId: ab, type: 'delete', targetId: once.id });
    for (const s of [alice, bob]) {
      const res = await get(s, onlyId);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    expect((await f.historyOf(bob, ab)).find((m) => m.id === once.id)).toMatchObject({
      body: null,
      mediaId: null,
      editedAt: null,
    });
    // A deleted message cannot be forwarded.
    expect(await f.trySend(b, { conversationId: bc, forwardOf: once.id, type: undefined })).toEqual(
      errorAck('NOT_FOUND'),
    );
  }, 60_000);
});

describe('message feature windows (e2e)', () => {
  let t: TestApp;
  const f = features(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      env: { MESSAGE_EDIT_WINDOW_SEC: '1', MESSAGE_DELETE_WINDOW_SEC: '2' },
    });
  });
  afterEach(() => f.closeAll());
  afterAll(async () => {
    await t.close();
  });

  it('closes edits and the sender’s deletes after their windows; admins delete any time; reactions have no window', async () => {
    const owner = await f.user();
    const member = await f.user();
    const groupId = await f.group(owner, [member]);
    const o = await f.open(owner);
    const m = await f.open(member);
    const early = await f.sendF(m, { conversationId: groupId, body: 'early' });
    const other = await f.sendF(m, { conversationId: groupId, body: 'other' });
    expect(
      (
        await f.trySend(m, {
          conversationId: groupId,
          type: 'edit',
          targetId: early.id,
          body: 'quick fix',
        })
      ).ok,
    ).toBe(true);
    await sleep(1300);
    await f.expectRefused(
      m,
      member,
      groupId,
      o,
      { type: 'edit', targetId: early.id, body: 'late' },
      'WINDOW_CLOSED',
    );
    expect(
      (await f.trySend(m, { conversationId: groupId, type: 'delete', targetId: other.id })).ok,
    ).toBe(true);
    await sleep(1000);
    await f.expectRefused(
      m,
      member,
      groupId,
      o,
      { type: 'delete', targetId: early.id },
      'WINDOW_CLOSED',
    );
    expect(
      (
        await f.trySend(o, {
          conversationId: groupId,
          type: 'reaction',
          targetId: early.id,
          body: '👍',
        })
      ).ok,
    ).toBe(true);
    expect(
      (await f.trySend(o, { conversationId: groupId, type: 'delete', targetId: early.id })).ok,
    ).toBe(true);
    const history = await f.historyOf(member, groupId);
    expect(history.find((x) => x.id === early.id)).toMatchObject({ body: null, reactions: [] });
  }, 30_000);
});
