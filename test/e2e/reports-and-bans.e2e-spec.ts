import type { Socket } from 'socket.io-client';
import { clientsOf } from '../utils/chat-clients';
import { connect, nextEvent, signIn, uniquePhone, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { backendFromEnvironment, startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';

const adminPhone = uniquePhone();
const settings = { ADMIN_PHONES: adminPhone, REPORTS_PER_USER_PER_HOUR: '3' };

const report = (t: TestApp, s: Session, body: Record<string, unknown>) =>
  http(t.api, 'POST', '/reports', { token: s.accessToken, body });
const ban = (t: TestApp, s: Session, userId: string, method = 'POST') =>
  http(t.api, method, `/admin/users/${userId}/ban`, { token: s.accessToken });

describe('reports, operator review and bans (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  const c = clientsOf(() => t);

  beforeAll(async () => {
    t = await startTestApp({ env: settings });
    admin = await signIn(t, adminPhone);
  });
  afterEach(() => c.closeAll());
  afterAll(async () => {
    await t.close();
  });

  it('a report carries the last 5 messages of the conversation as the reporter has them', async () => {
    const reporter = await c.user();
    const spammer = await c.user();
    const sr = await c.open(reporter);
    const ss = await c.open(spammer);
    const conversationId = await c.direct(spammer, reporter);
    const sent = [];
    for (let i = 1; i <= 7; i++)
      sent.push(await c.send(i % 3 ? ss : sr, { conversationId, body: `m${i}` }));

    const res = await report(t, reporter, {
      userId: spammer.userId,
      messageId: sent[6].id,
      reason: 'spam',
      note: 'buy now',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      reporterId: reporter.userId,
      userId: spammer.userId,
      messageId: sent[6].id,
      reason: 'spam',
      note: 'buy now',
    });
    expect(res.body.messages.map((m: { body: string }) => m.body)).toEqual([
      'm3',
      'm4',
      'm5',
      'm6',
      'm7',
    ]);
    expect(res.body.messages[0]).toMatchObject({ conversationId, senderId: reporter.userId });

    // The evidence stays as it was when reported.
    await c.send(ss, { conversationId, body: 'later' });
    const listed = await http(t.api, 'GET', `/admin/reports?userId=${spammer.userId}`, {
      token: admin.accessToken,
    });
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0].id).toBe(res.body.id);
    expect(listed.body[0].messages).toHaveLength(5);
  });

  it('refuses bad reports with a code, and limits reports per hour', async () => {
    const reporter = await c.user();
    const other = await c.user();
    const stranger = await c.user();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ userId: reporter.userId, reason: 'spam' }, 400, 'VALIDATION_FAILED'],
      [{ userId: other.userId, reason: 'rude' }, 400, 'VALIDATION_FAILED'],
      [{ userId: 'nope', reason: 'spam' }, 400, 'VALIDATION_FAILED'],
      [{ userId: '0190a6f5-0000-7000-8000-000000000000', reason: 'spam' }, 404, 'NOT_FOUND'],
      [{ userId: other.userId, reason: 'spam', note: 'x'.repeat(1001) }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await report(t, reporter, body);
      expect([res.status, res.body.code]).toEqual([status, code]);
    }
    // A message the reporter cannot see is NOT_FOUND.
    const so = await c.open(other);
    const hidden = await c.send(so, {
      conversationId: await c.direct(other, stranger),
      body: 'private',
    });
    const unseen = await report(t, reporter, {
      userId: other.userId,
      messageId: hidden.id,
      reason: 'abuse',
    });
    expect([unseen.status, unseen.body.code]).toEqual([404, 'NOT_FOUND']);

    // Without any conversation the report carries no messages.
    for (let i = 0; i < 3; i++) {
      const ok = await report(t, reporter, { userId: other.userId, reason: 'other' });
      expect(ok.status).toBe(201);
      expect(ok.body.messages).toEqual([]);
    }
    const limited = await report(t, reporter, { userId: other.userId, reason: 'other' });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.body.retryAfterMs).toBeGreaterThan(0);
  });

  it('only operators may review reports and ban; reports page newest first', async () => {
    const user = await c.user();
    const target = await c.user();
    for (const [method, path] of [
      ['GET', '/admin/reports'],
      ['POST', `/admin/users/${target.userId}/ban`],
      ['DELETE', `/admin/users/${target.userId}/ban`],
    ]) {
      const res = await http(t.api, method, path, { token: user.accessToken });
      expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await http(t.api, 'GET', '/admin/reports')).status).toBe(401);
    expect((await ban(t, admin, 'not-an-id')).body.code).toBe('VALIDATION_FAILED');
    expect((await ban(t, admin, '0190a6f5-0000-7000-8000-000000000000')).body.code).toBe(
      'NOT_FOUND',
    );

    const reporters = [await c.user(), await c.user(), await c.user()];
    const ids: string[] = [];
    for (const r of reporters)
      ids.push((await report(t, r, { userId: target.userId, reason: 'abuse' })).body.id);
    const first = await http(t.api, 'GET', `/admin/reports?userId=${target.userId}&limit=2`, {
      token: admin.accessToken,
    });
    expect(first.body.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const rest = await http(
      t.api,
      'GET',
      `/admin/reports?userId=${target.userId}&limit=2&before=${ids[1]}`,
      { token: admin.accessToken },
    );
    expect(rest.body.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    const bad = await http(t.api, 'GET', '/admin/reports?limit=1000', {
      token: admin.accessToken,
    });
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('a ban ends every session at once and refuses sign-in until lifted', async () => {
    const phone = uniquePhone();
    const a = await signIn(t, phone);
    const b = await signIn(t, phone);
    const sockets: Socket[] = [await c.open(a), await c.open(b)];
    const revoked = sockets.map((s) => nextEvent(s, 'session:revoked'));
    const dropped = sockets.map((s) => nextEvent(s, 'disconnect'));

    expect((await ban(t, admin, a.userId)).status).toBe(204);
    expect(await Promise.all(revoked)).toEqual(
      expect.arrayContaining([
        { deviceId: a.deviceId, reason: 'banned' },
        { deviceId: b.deviceId, reason: 'banned' },
      ]),
    );
    await Promise.all(dropped);

    expect((await http(t.api, 'GET', '/users/me', { token: a.accessToken })).status).toBe(401);
    const refresh = await http(t.api, 'POST', '/auth/refresh', {
      body: { refreshToken: b.refreshToken },
    });
    expect(refresh.status).toBe(401);
    await expect(connect(t, a.accessToken)).rejects.toThrow('UNAUTHORIZED');
    const otp = await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    expect([otp.status, otp.body.code]).toEqual([403, 'BANNED']);
    const verify = await http(t.api, 'POST', '/auth/verify', { body: { phone, code: TEST_OTP } });
    expect([verify.status, verify.body.code]).toEqual([403, 'BANNED']);
    // Banning twice is fine.
    expect((await ban(t, admin, a.userId)).status).toBe(204);

    expect((await ban(t, admin, a.userId, 'DELETE')).status).toBe(204);
    const again = await signIn(t, phone);
    expect(again.userId).toBe(a.userId);
    expect(again.isNewUser).toBe(false);
  });

  it('operators cannot ban themselves', async () => {
    const res = await ban(t, admin, admin.userId);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await http(t.api, 'GET', '/users/me', { token: admin.accessToken })).status).toBe(200);
  });
});

// Two instances share state only through PostgreSQL and Redis.
const backend = backendFromEnvironment();
const shared = backend.databaseUrl && backend.redisUrl ? describe : describe.skip;
shared('bans across instances (needs DATABASE_URL and REDIS_URL) (e2e)', () => {
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    one = await startTestApp({ env: settings });
    two = await startTestApp({ env: settings, databaseUrl: one.config.database.url });
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  it("drops the banned user's sockets on the other instance", async () => {
    const operator = await signIn(one, adminPhone);
    const user = await signIn(two);
    const socket = await connect(two, user.accessToken);
    const revoked = nextEvent(socket, 'session:revoked');
    const dropped = nextEvent(socket, 'disconnect');
    expect((await ban(one, operator, user.userId)).status).toBe(204);
    expect(await revoked).toEqual({ deviceId: user.deviceId, reason: 'banned' });
    await dropped;
    expect((await http(two.api, 'GET', '/users/me', { token: user.accessToken })).status).toBe(401);
    const verify = await http(two.api, 'POST', '/auth/verify', {
      body: { phone: user.phone, code: TEST_OTP },
    });
    expect(verify.body.code).toBe('BANNED');
    socket.close();
  });
});
