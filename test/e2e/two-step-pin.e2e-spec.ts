import { connect, signIn, uniquePhone, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';

const verify = (t: TestApp, phone: string) =>
  http(t.api, 'POST', '/auth/verify', {
    body: { phone, code: TEST_OTP, deviceName: 'New phone', platform: 'ios' },
  });
const sendPin = (t: TestApp, pinToken: string, pin: string) =>
  http(t.api, 'POST', '/auth/pin', { body: { pinToken, pin } });
const setPin = (t: TestApp, s: Session, pin: unknown) =>
  http(t.api, 'PUT', '/users/me/pin', { token: s.accessToken, body: { pin } });

describe('two-step verification PIN (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_MAX_ATTEMPTS: '5' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('asks a new device for the PIN, then signs it in as verify does', async () => {
    const first = await signIn(t);
    expect((await setPin(t, first, '135790')).status).toBe(204);

    const challenged = await verify(t, first.phone);
    expect(challenged.status).toBe(401);
    expect(challenged.body.code).toBe('PIN_REQUIRED');
    expect(typeof challenged.body.pinToken).toBe('string');

    const wrong = await sendPin(t, challenged.body.pinToken, '000000');
    expect([wrong.status, wrong.body.code]).toEqual([401, 'UNAUTHORIZED']);

    const ok = await sendPin(t, challenged.body.pinToken, '135790');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ userId: first.userId, isNewUser: false });
    expect(ok.body.deviceId).not.toBe(first.deviceId);
    const devices = await http(t.api, 'GET', '/devices', { token: ok.body.accessToken });
    expect(devices.body.find((d: { current: boolean }) => d.current)).toMatchObject({
      name: 'New phone',
      platform: 'ios',
    });
    (await connect(t, ok.body.accessToken)).close();

    // A token signs in one device only.
    const reused = await sendPin(t, challenged.body.pinToken, '135790');
    expect([reused.status, reused.body.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('changes and removes the PIN; bad PINs and tokens are refused', async () => {
    const s = await signIn(t);
    for (const pin of ['12345', '1234567', 'abcdef', 123456, undefined]) {
      const res = await setPin(t, s, pin);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    // No PIN yet: verify signs in directly.
    expect((await verify(t, s.phone)).status).toBe(200);
    await setPin(t, s, '111111');
    await setPin(t, s, '222222');
    const challenged = await verify(t, s.phone);
    expect((await sendPin(t, challenged.body.pinToken, '111111')).status).toBe(401);
    expect((await sendPin(t, challenged.body.pinToken, '222222')).status).toBe(200);

    expect((await http(t.api, 'DELETE', '/users/me/pin', { token: s.accessToken })).status).toBe(
      204,
    );
    expect((await verify(t, s.phone)).status).toBe(200);
    expect((await http(t.api, 'DELETE', '/users/me/pin', { token: s.accessToken })).status).toBe(
      204,
    );
    expect((await http(t.api, 'PUT', '/users/me/pin', { body: { pin: '123456' } })).status).toBe(
      401,
    );

    const unknown = await sendPin(t, 'pt_nope', '123456');
    expect([unknown.status, unknown.body.code]).toEqual([401, 'UNAUTHORIZED']);
    const bad = await http(t.api, 'POST', '/auth/pin', { body: { pinToken: 'x', pin: 'abc' } });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('a new account is never asked (it has no PIN yet)', async () => {
    const res = await verify(t, uniquePhone());
    expect(res.status).toBe(200);
    expect(res.body.isNewUser).toBe(true);
  });

  it('locks the account out of POST /auth/pin for an hour after 5 wrong PINs, however many arrive at once', async () => {
    const s = await signIn(t);
    await setPin(t, s, '424242');
    const { pinToken } = (await verify(t, s.phone)).body;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => sendPin(t, pinToken, String(100000 + i))),
    );
    const wrong = answers.filter((r) => r.status === 401);
    const limited = answers.filter((r) => r.status === 429);
    expect(wrong).toHaveLength(5);
    expect(limited).toHaveLength(25);
    expect(limited[0].body.code).toBe('RATE_LIMITED');
    expect(limited[0].body.retryAfterMs).toBeGreaterThan(55 * 60_000);

    // The right PIN is refused too, also with a fresh token: the lockout is the account's.
    const right = await sendPin(t, pinToken, '424242');
    expect([right.status, right.body.code]).toEqual([429, 'RATE_LIMITED']);
    const fresh = (await verify(t, s.phone)).body.pinToken;
    expect((await sendPin(t, fresh, '424242')).status).toBe(429);
    // Signed-in devices are untouched.
    expect((await http(t.api, 'GET', '/users/me', { token: s.accessToken })).status).toBe(200);
  });

  it('right PINs do not count towards the lockout', async () => {
    const s = await signIn(t);
    await setPin(t, s, '777777');
    for (let i = 0; i < 8; i++) {
      const { pinToken } = (await verify(t, s.phone)).body;
      expect((await sendPin(t, pinToken, '777777')).status).toBe(200);
    }
  });
});

describe('two-step verification PIN with the limit off (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_MAX_ATTEMPTS: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('PIN_MAX_ATTEMPTS=0 never locks out', async () => {
    const s = await signIn(t);
    await setPin(t, s, '424242');
    const { pinToken } = (await verify(t, s.phone)).body;
    for (let i = 0; i < 8; i++) expect((await sendPin(t, pinToken, '000000')).status).toBe(401);
    expect((await sendPin(t, pinToken, '424242')).status).toBe(200);
  });
});
