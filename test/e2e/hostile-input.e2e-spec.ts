import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Socket } from 'socket.io-client';
import { connect, request, signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

/**
 * Input an attacker (or a buggy client) sends: each gets a 4xx with the protocol's error
 * shape, changes nothing, and leaves the socket and the process serving.
 */
describe('hostile input (e2e)', () => {
  let t: TestApp;
  let alice: Session;
  let bob: Session;
  let socket: Socket;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await signIn(t);
    bob = await signIn(t);
    socket = await connect(t, alice.accessToken);
  });
  afterAll(async () => {
    socket?.close();
    await t?.close();
  });

  const send = (payload: Record<string, unknown>) =>
    request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      recipientId: bob.userId,
      type: 'text',
      body: 'hello',
      ...payload,
    });
  const history = async () => {
    const list = await http(t.api, 'GET', '/conversations', { token: alice.accessToken });
    const direct = (list.body as Array<{ id: string; peerId: string }>).find(
      (c) => c.peerId === bob.userId,
    );
    if (!direct) return [];
    const page = await http(t.api, 'GET', `/conversations/${direct.id}/messages`, {
      token: alice.accessToken,
    });
    return (page.body as { messages: Array<{ body: string; clientMsgId: string }> }).messages;
  };

  describe('U+0000 in text', () => {
    it.each([
      ['displayName', { displayName: 'bad\u0000name' }],
      ['about', { about: 'a\u0000b' }],
    ])(
      'PATCH /users/me with it in %s is VALIDATION_FAILED and changes nothing',
      async (_, body) => {
        const before = await http(t.api, 'GET', '/users/me', { token: alice.accessToken });
        const res = await http(t.api, 'PATCH', '/users/me', { token: alice.accessToken, body });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 });
        expect(res.body.message).toContain('U+0000');
        const after = await http(t.api, 'GET', '/users/me', { token: alice.accessToken });
        expect(after.body).toEqual(before.body);
      },
    );

    it('a device name holding it is refused at sign-in, and no device is made', async () => {
      const res = await http(t.api, 'POST', '/auth/verify', {
        body: { phone: alice.phone, code: '246810', deviceName: 'ph\u0000ne' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const devices = await http(t.api, 'GET', '/devices', { token: alice.accessToken });
      expect(devices.body).toHaveLength(1);
    });

    it('a message body holding it is refused over the socket and over REST', async () => {
      const clientMsgId = randomUUID();
      const ack = await send({ clientMsgId, body: 'zero\u0000byte' });
      expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      const rest = await http(t.api, 'POST', '/messages', {
        token: alice.accessToken,
        body: { clientMsgId, recipientId: bob.userId, type: 'text', body: '\u0000' },
      });
      expect(rest.status).toBe(400);
      expect((await history()).some((m) => m.clientMsgId === clientMsgId)).toBe(false);
      expect(socket.connected).toBe(true);
    });

    it('does not fail the sends written in the same batch', async () => {
      const good = Array.from({ length: 20 }, (_, i) => send({ body: `ok ${i}` }));
      const bad = send({ body: 'x\u0000' });
      const acks = await Promise.all([...good, bad]);
      expect(acks.slice(0, 20).every((a: { ok: boolean }) => a.ok)).toBe(true);
      expect(acks[20]).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    });
  });

  describe('request bodies', () => {
    it('Content-Encoding: gzip with a plain body is a 400, not a 500', async () => {
      const res = await http(t.api, 'PATCH', '/users/me', {
        token: alice.accessToken,
        rawBody: JSON.stringify({ about: 'plain' }),
        headers: { 'content-encoding': 'gzip' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    });

    it('an unsupported Content-Encoding is a 400 in the error shape', async () => {
      const res = await http(t.api, 'PATCH', '/users/me', {
        token: alice.accessToken,
        rawBody: JSON.stringify({ about: 'plain' }),
        headers: { 'content-encoding': 'compress' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.message).toMatch(/content encoding/i);
    });

    it('a real gzip body is accepted', async () => {
      const about = `gz ${randomUUID()}`;
      const res = await fetch(`${t.api}/users/me`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${alice.accessToken}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: gzipSync(JSON.stringify({ about })),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { about: string }).about).toBe(about);
    });

    it('an error about a huge array stays short', async () => {
      const items = Array.from({ length: 100_000 }, (_, i) => i);
      const res = await http(t.api, 'PUT', '/contacts', {
        token: alice.accessToken,
        body: { phones: items },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.body).length).toBeLessThan(8_000);
      expect((res.body.details ?? []).length).toBeLessThanOrEqual(21);
    });
  });

  describe('ids', () => {
    it('a clientMsgId that is not a UUID is refused', async () => {
      for (const clientMsgId of ['x', 'abc-def', '12345678']) {
        const ack = await send({ clientMsgId });
        expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      }
      const rest = await http(t.api, 'POST', '/messages', {
        token: alice.accessToken,
        body: { clientMsgId: 'x', recipientId: bob.userId, type: 'text', body: 'r' },
      });
      expect(rest.status).toBe(400);
    });

    it('an upper-case clientMsgId is the same id as its lower-case form', async () => {
      const id = randomUUID();
      const first = await send({ clientMsgId: id.toUpperCase(), body: 'once' });
      expect(first.ok).toBe(true);
      expect(first.message.clientMsgId).toBe(id);
      const again = await send({ clientMsgId: id, body: 'once' });
      expect(again.message.id).toBe(first.message.id);
      expect((await history()).filter((m) => m.clientMsgId === id)).toHaveLength(1);
    });

    it('an upper-case recipientId reaches the same direct conversation', async () => {
      const lower = await send({ body: 'lower' });
      const upper = await send({ recipientId: bob.userId.toUpperCase(), body: 'upper' });
      expect(upper.ok).toBe(true);
      expect(upper.message.conversationId).toBe(lower.message.conversationId);
      const rest = await http(t.api, 'POST', '/conversations/direct', {
        token: alice.accessToken,
        body: { userId: bob.userId.toUpperCase() },
      });
      expect(rest.body.id).toBe(lower.message.conversationId);
    });
  });
});
