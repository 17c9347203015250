import { connect, signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

/** `n` distinct phones of a block nobody registers. */
const phones = (n: number, block: number) =>
  Array.from(
    { length: n },
    (_, i) => `+1999${block.toString().padStart(3, '0')}${i.toString().padStart(4, '0')}`,
  );

const createGroup = (t: TestApp, s: Session) =>
  http(t.api, 'POST', '/groups', { token: s.accessToken, body: { name: 'G', memberIds: [] } });
const upload = (t: TestApp, s: Session, list: string[]) =>
  http(t.api, 'PUT', '/contacts', { token: s.accessToken, body: { phones: list } });

const expectLimited = (res: { status: number; body: { code: string; retryAfterMs: number } }) => {
  expect(res.status).toBe(429);
  expect(res.body.code).toBe('RATE_LIMITED');
  expect(res.body.retryAfterMs).toBeGreaterThan(55 * 60_000);
};

describe('per-user limits on costly paths (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        GROUPS_PER_USER_PER_HOUR: '2',
        CONTACT_UPLOADS_PER_HOUR: '1',
        SOCKET_CONNECTIONS_PER_IP_PER_MINUTE: '3',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('SOCKET_CONNECTIONS_PER_IP_PER_MINUTE: handshakes per client address, behind a trusted proxy too', async () => {
    const s = await signIn(t);
    const proxied = { 'x-forwarded-for': '203.0.113.10' };
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await connect(t, s.accessToken, 5000, proxied));
    const refused = await connect(t, s.accessToken, 5000, proxied).catch(
      (e: Error & { data?: { retryAfterMs: number } }) => e,
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe('RATE_LIMITED');
    expect(
      (refused as Error & { data: { retryAfterMs: number } }).data.retryAfterMs,
    ).toBeGreaterThan(0);
    // Loopback is a trusted proxy by default: another forwarded client is counted apart.
    sockets.push(await connect(t, s.accessToken, 5000, { 'x-forwarded-for': '203.0.113.11' }));
    for (const socket of sockets) socket.close();
  });

  it('GROUPS_PER_USER_PER_HOUR: groups created per user per hour', async () => {
    const a = await signIn(t);
    const b = await signIn(t);
    expect((await createGroup(t, a)).status).toBe(201);
    expect((await createGroup(t, a)).status).toBe(201);
    expectLimited(await createGroup(t, a));
    // Per user: another user is not affected.
    expect((await createGroup(t, b)).status).toBe(201);
  });

  it('CONTACT_UPLOADS_PER_HOUR: one upload of more than 100 phones an hour, smaller ones free', async () => {
    const s = await signIn(t);
    const friend = await signIn(t);
    const full = [...phones(150, 1), friend.phone];
    const first = await upload(t, s, full);
    expect(first.status).toBe(200);
    expect(first.body).toEqual([expect.objectContaining({ userId: friend.userId })]);
    expectLimited(await upload(t, s, phones(101, 2)));
    // Refused: the address book is as the first upload left it.
    const listed = await http(t.api, 'GET', '/contacts', { token: s.accessToken });
    expect(listed.body).toEqual([expect.objectContaining({ userId: friend.userId })]);
    // Repeated phones count once; 100 distinct ones are a small upload.
    const small = [...phones(99, 3), friend.phone, friend.phone];
    for (let i = 0; i < 3; i++) expect((await upload(t, s, small)).status).toBe(200);
  });
});

describe('limits turned off, and no trusted proxy (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        GROUPS_PER_USER_PER_HOUR: '0',
        CONTACT_UPLOADS_PER_HOUR: '0',
        TRUST_PROXY: 'false',
        SOCKET_CONNECTIONS_PER_IP_PER_MINUTE: '2',
        OTP_GUESSES_PER_IP_PER_HOUR: '2',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('0 turns each limit off', async () => {
    const s = await signIn(t);
    for (let i = 0; i < 4; i++) {
      expect((await createGroup(t, s)).status).toBe(201);
      expect((await upload(t, s, phones(200, 4 + i))).status).toBe(200);
    }
  });

  it('TRUST_PROXY=false: X-Forwarded-For is ignored, so it cannot dodge per-address limits', async () => {
    const s = await signIn(t);
    const wrong = (ip: string) =>
      http(t.api, 'POST', '/auth/verify', {
        body: { phone: s.phone, code: '000000' },
        headers: { 'x-forwarded-for': ip },
      });
    expect((await wrong('203.0.113.1')).status).toBe(401);
    expect((await wrong('203.0.113.2')).status).toBe(401);
    expectLimited(await wrong('203.0.113.3'));

    const spoofed = (ip: string) => connect(t, s.accessToken, 5000, { 'x-forwarded-for': ip });
    const sockets = [await spoofed('203.0.113.4'), await spoofed('203.0.113.5')];
    await expect(spoofed('203.0.113.6')).rejects.toThrow('RATE_LIMITED');
    for (const socket of sockets) socket.close();
  });
});
