import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { connect, nextEvent, request, signIn } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('presence limits (e2e)', () => {
  let t: TestApp;
  let off: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: { PRESENCE_MAX_WATCHES: '5', PRESENCE_SUBSCRIBES_PER_MINUTE: '4' },
    });
    off = await startTestApp({
      env: { PRESENCE_MAX_WATCHES: '0', PRESENCE_SUBSCRIBES_PER_MINUTE: '0' },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
    await off.close();
  });

  const online = async (app: TestApp): Promise<Socket> => {
    const socket = await connect(app, (await signIn(app)).accessToken);
    sockets.push(socket);
    return socket;
  };

  it('counts every requested id against PRESENCE_MAX_WATCHES; a request passing it adds nothing', async () => {
    const socket = await online(t);
    const first = ids(3);
    expect((await request(socket, 'presence:subscribe', { userIds: first })).ok).toBe(true);
    const over = await request(socket, 'presence:subscribe', { userIds: ids(3) });
    expect(over).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    });
    // Nothing of the refused request was counted: two more fit, and asking again is free.
    expect(
      (await request(socket, 'presence:subscribe', { userIds: [...first, ...ids(2)] })).ok,
    ).toBe(true);
    expect(socket.connected).toBe(true);
  });

  it('unsubscribing frees room, and a new connection starts empty', async () => {
    const socket = await online(t);
    const five = ids(5);
    expect((await request(socket, 'presence:subscribe', { userIds: five })).ok).toBe(true);
    await request(socket, 'presence:unsubscribe', { userIds: five.slice(0, 2) });
    expect((await request(socket, 'presence:subscribe', { userIds: ids(2) })).ok).toBe(true);
    const other = await online(t);
    expect((await request(other, 'presence:subscribe', { userIds: ids(5) })).ok).toBe(true);
  });

  it('limits presence:subscribe per user and minute', async () => {
    const socket = await online(t);
    for (let i = 0; i < 4; i++)
      expect((await request(socket, 'presence:subscribe', { userIds: ids(1) })).ok).toBe(true);
    const limited = await request(socket, 'presence:subscribe', { userIds: [] });
    expect(limited).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) }),
    });
  });

  it('0 turns both off', async () => {
    const socket = await online(off);
    for (let i = 0; i < 6; i++)
      expect((await request(socket, 'presence:subscribe', { userIds: ids(400) })).ok).toBe(true);
  });
  it('a block, or a contact change, decides at once what the watchers see', async () => {
    const target = await signIn(off);
    const viewer = await signIn(off);
    await http(off.api, 'PUT', '/contacts', {
      token: viewer.accessToken,
      body: { phones: [target.phone] },
    });
    const st = await connect(off, target.accessToken);
    const sv = await connect(off, viewer.accessToken);
    sockets.push(st, sv);
    const ack = await request(sv, 'presence:subscribe', { userIds: [target.userId] });
    expect(ack.presence).toEqual([
      expect.objectContaining({ userId: target.userId, online: true }),
    ]);

    const hidden = nextEvent(sv, 'presence', (p: { userId: string }) => p.userId === target.userId);
    await http(off.api, 'POST', `/users/${viewer.userId}/block`, { token: target.accessToken });
    expect(await hidden).toEqual({ userId: target.userId, online: null, lastSeen: null });

    const shown = nextEvent(sv, 'presence', (p: { userId: string }) => p.userId === target.userId);
    await http(off.api, 'DELETE', `/users/${viewer.userId}/block`, { token: target.accessToken });
    expect(await shown).toMatchObject({ userId: target.userId, online: true });

    // "contacts" only: the target dropping the viewer from their contacts hides them at once.
    await http(off.api, 'PUT', '/users/me/privacy', {
      token: target.accessToken,
      body: { lastSeen: 'contacts', readReceipts: true },
    });
    await http(off.api, 'PUT', '/contacts', {
      token: target.accessToken,
      body: { phones: [viewer.phone] },
    });
    const dropped = nextEvent(sv, 'presence', (p: { userId: string; online: unknown }) => {
      return p.userId === target.userId && p.online === null;
    });
    await http(off.api, 'PUT', '/contacts', { token: target.accessToken, body: { phones: [] } });
    expect(await dropped).toEqual({ userId: target.userId, online: null, lastSeen: null });
  });
});
