import { connect, nextEvent, signIn, uniquePhone } from '../utils/clients';
import { http } from '../utils/http';
import { startSmsGateway, type SmsGateway } from '../utils/sms-gateway';
import { startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';

describe('auth (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs in a new user, then registers a second device of the same user', async () => {
    const phone = uniquePhone();
    const otp = await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    expect(otp.status).toBe(202);
    expect(otp.body).toEqual({ expiresInSec: 300 });

    const first = await http(t.api, 'POST', '/auth/verify', {
      body: { phone, code: TEST_OTP, deviceName: 'Pixel', platform: 'android' },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ expiresInSec: 900, isNewUser: true });
    expect(typeof first.body.accessToken).toBe('string');

    const second = await signIn(t, phone, { deviceName: 'Laptop', platform: 'desktop' });
    expect(second.userId).toBe(first.body.userId);
    expect(second.deviceId).not.toBe(first.body.deviceId);
    expect(second.isNewUser).toBe(false);

    const devices = await http(t.api, 'GET', '/devices', { token: second.accessToken });
    expect(devices.status).toBe(200);
    expect(devices.body.map((d: { name: string }) => d.name).sort()).toEqual(['Laptop', 'Pixel']);
    expect(devices.body.find((d: { current: boolean }) => d.current).id).toBe(second.deviceId);
  });

  it('rejects bad phone numbers, unknown fields and wrong types with VALIDATION_FAILED', async () => {
    for (const body of [
      { phone: '4155550101' },
      { phone: '+0123' },
      { phone: 14155550101 },
      { phone: '+14155550101', x: 1 },
      {},
    ]) {
      const res = await http(t.api, 'POST', '/auth/otp', { body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(typeof res.body.message).toBe('string');
    }
    const malformed = await http(t.api, 'POST', '/auth/otp', { rawBody: '{"phone":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('VALIDATION_FAILED');
  });

  it('refuses protected routes without a valid token', async () => {
    for (const token of [undefined, 'garbage', 'a.b.c']) {
      const res = await http(t.api, 'GET', '/users/me', { token });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    }
  });

  it('rotates refresh tokens and revokes the session when an old one is reused', async () => {
    const s = await signIn(t);
    const r1 = await http(t.api, 'POST', '/auth/refresh', {
      body: { refreshToken: s.refreshToken },
    });
    expect(r1.status).toBe(200);
    expect(r1.body.deviceId).toBe(s.deviceId);
    expect(r1.body.refreshToken).not.toBe(s.refreshToken);
    expect((await http(t.api, 'GET', '/users/me', { token: r1.body.accessToken })).status).toBe(
      200,
    );

    const socket = await connect(t, r1.body.accessToken);
    const revoked = nextEvent(socket, 'disconnect');
    const reuse = await http(t.api, 'POST', '/auth/refresh', {
      body: { refreshToken: s.refreshToken },
    });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('UNAUTHORIZED');
    await revoked;

    // Every token of the device is dead now, the rotated one included.
    expect(
      (await http(t.api, 'POST', '/auth/refresh', { body: { refreshToken: r1.body.refreshToken } }))
        .status,
    ).toBe(401);
    expect((await http(t.api, 'GET', '/users/me', { token: r1.body.accessToken })).status).toBe(
      401,
    );
    await expect(connect(t, r1.body.accessToken)).rejects.toThrow('UNAUTHORIZED');
  });

  it('logout stops the tokens at once and disconnects the live socket, leaving other devices alone', async () => {
    const phone = uniquePhone();
    const a = await signIn(t, phone);
    const b = await signIn(t, phone);
    const socketA = await connect(t, a.accessToken);
    const socketB = await connect(t, b.accessToken);
    const revokedEvent = nextEvent(socketA, 'session:revoked');
    const disconnected = nextEvent(socketA, 'disconnect');

    const res = await http(t.api, 'POST', '/auth/logout', { token: a.accessToken });
    expect(res.status).toBe(204);
    expect(await revokedEvent).toEqual({ deviceId: a.deviceId, reason: 'logout' });
    await disconnected;
    expect(socketB.connected).toBe(true);

    expect((await http(t.api, 'GET', '/users/me', { token: a.accessToken })).status).toBe(401);
    expect(
      (await http(t.api, 'POST', '/auth/refresh', { body: { refreshToken: a.refreshToken } }))
        .status,
    ).toBe(401);
    expect((await http(t.api, 'GET', '/users/me', { token: b.accessToken })).status).toBe(200);
    socketB.close();
  });

  it('refuses a removed device at the next handshake, though its connects were cached', async () => {
    const phone = uniquePhone();
    const a = await signIn(t, phone);
    const b = await signIn(t, phone);
    // Two handshakes: the second is answered from the device cache.
    (await connect(t, b.accessToken)).close();
    const live = await connect(t, b.accessToken);
    const gone = nextEvent(live, 'disconnect');
    expect(
      (await http(t.api, 'DELETE', `/devices/${b.deviceId}`, { token: a.accessToken })).status,
    ).toBe(204);
    await gone;
    await expect(connect(t, b.accessToken)).rejects.toThrow('UNAUTHORIZED');
    expect((await http(t.api, 'GET', '/users/me', { token: b.accessToken })).status).toBe(401);
  });

  it('removes another device of the same user, but not a stranger’s', async () => {
    const phone = uniquePhone();
    const a = await signIn(t, phone);
    const b = await signIn(t, phone);
    const stranger = await signIn(t);
    expect(
      (await http(t.api, 'DELETE', `/devices/${stranger.deviceId}`, { token: a.accessToken }))
        .status,
    ).toBe(404);
    expect(
      (await http(t.api, 'DELETE', `/devices/not-a-uuid`, { token: a.accessToken })).status,
    ).toBe(400);
    expect(
      (await http(t.api, 'DELETE', `/devices/${b.deviceId}`, { token: a.accessToken })).status,
    ).toBe(204);
    expect((await http(t.api, 'GET', '/users/me', { token: b.accessToken })).status).toBe(401);
    const devices = await http(t.api, 'GET', '/devices', { token: a.accessToken });
    expect(devices.body.map((d: { id: string }) => d.id)).toEqual([a.deviceId]);
  });

  it('fails the socket handshake with UNAUTHORIZED for missing or bad tokens', async () => {
    await expect(connect(t, undefined)).rejects.toThrow('UNAUTHORIZED');
    await expect(connect(t, 'nope')).rejects.toThrow('UNAUTHORIZED');
  });

  it('answers unknown socket events and bad payloads with an error ack, keeping the socket', async () => {
    const s = await signIn(t);
    const socket = await connect(t, s.accessToken);
    const res = await socket.timeout(2000).emitWithAck('no:such:event', { a: 1 });
    expect(res).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    });
    expect(socket.connected).toBe(true);
    socket.close();
  });
});

describe('auth OTP limits (e2e)', () => {
  let t: TestApp;
  let sms: SmsGateway;

  beforeAll(async () => {
    sms = await startSmsGateway();
    t = await startTestApp({ env: { ...sms.env, OTP_MAX_PER_WINDOW: '3' } });
  });
  afterAll(async () => {
    await t.close();
    await sms.close();
  });

  const codeSentTo = (phone: string): string => sms.codeSentTo(phone);

  it('sends a 6-digit code by SMS that signs in once', async () => {
    const phone = uniquePhone();
    expect((await http(t.api, 'POST', '/auth/otp', { body: { phone } })).status).toBe(202);
    const code = codeSentTo(phone);
    expect(code).toMatch(/^\d{6}$/);
    const ok = await http(t.api, 'POST', '/auth/verify', { body: { phone, code } });
    expect(ok.status).toBe(200);
    const again = await http(t.api, 'POST', '/auth/verify', { body: { phone, code } });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('UNAUTHORIZED');
  });

  it('allows at most 3 codes per phone per window', async () => {
    const phone = uniquePhone();
    for (let i = 0; i < 3; i++)
      expect((await http(t.api, 'POST', '/auth/otp', { body: { phone } })).status).toBe(202);
    const limited = await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.body.retryAfterMs).toBeGreaterThan(0);
    expect(limited.body.retryAfterMs).toBeLessThanOrEqual(15 * 60 * 1000);
    // Another phone is not affected.
    expect(
      (await http(t.api, 'POST', '/auth/otp', { body: { phone: uniquePhone() } })).status,
    ).toBe(202);
  });

  it('kills a code after 5 wrong tries, even for the right code', async () => {
    const phone = uniquePhone();
    await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    const code = codeSentTo(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await http(t.api, 'POST', '/auth/verify', { body: { phone, code: wrong } });
      expect(res.status).toBe(401);
    }
    const locked = await http(t.api, 'POST', '/auth/verify', { body: { phone, code } });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    expect(locked.body.message).toMatch(/too many/i);
    // A new code works again.
    await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    expect(
      (await http(t.api, 'POST', '/auth/verify', { body: { phone, code: codeSentTo(phone) } }))
        .status,
    ).toBe(200);
  });

  it('does not accept a code for another phone, nor without a request', async () => {
    const phone = uniquePhone();
    await http(t.api, 'POST', '/auth/otp', { body: { phone } });
    const code = codeSentTo(phone);
    expect(
      (await http(t.api, 'POST', '/auth/verify', { body: { phone: uniquePhone(), code } })).status,
    ).toBe(401);
  });
});
