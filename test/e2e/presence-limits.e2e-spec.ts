import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { connect, request, signIn } from '../utils/clients';
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
});
