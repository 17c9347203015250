import { uniquePhone } from '../utils/clients';
import { http, type HttpResult } from '../utils/http';
import { startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';

let ipCounter = 0;
/** A client address of its own, so per-IP limits of one test never touch another. */
const newIp = () => {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
};
const from = (ip: string) => ({ 'x-forwarded-for': ip });

// Never the test code (246810).
const WRONG = '000000';

const verify = (t: TestApp, phone: string, code: string, ip = newIp()): Promise<HttpResult> =>
  http(t.api, 'POST', '/auth/verify', { body: { phone, code }, headers: from(ip) });
const requestCode = (t: TestApp, phone: string, ip = newIp()): Promise<HttpResult> =>
  http(t.api, 'POST', '/auth/otp', { body: { phone }, headers: from(ip) });

/**
 * Answers of tries that were compared with the code: a session or "wrong code" (after a
 * sign-in the code is used up, and later tries find none to compare with).
 */
const evaluated = (r: HttpResult) =>
  r.status === 200 || (r.status === 401 && r.body.message === 'Wrong code');

describe('sign-in code guessing (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('evaluates at most 5 of 200 concurrent guesses; the right code after them does not sign in', async () => {
    const phone = uniquePhone();
    expect((await requestCode(t, phone)).status).toBe(202);
    const answers = await Promise.all(Array.from({ length: 200 }, () => verify(t, phone, WRONG)));
    expect(answers.filter(evaluated)).toHaveLength(5);
    for (const a of answers.filter((r) => !evaluated(r))) {
      expect(a.status).toBe(429);
      expect(a.body.code).toBe('RATE_LIMITED');
    }
    const right = await verify(t, phone, TEST_OTP);
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('RATE_LIMITED');

    // A new code brings the phone back.
    expect((await requestCode(t, phone)).status).toBe(202);
    expect((await verify(t, phone, TEST_OTP)).status).toBe(200);
  });

  it('lets at most 5 of a mixed burst be evaluated, and at most one sign in', async () => {
    const phone = uniquePhone();
    await requestCode(t, phone);
    const codes = Array.from({ length: 200 }, (_, i) => (i === 7 ? TEST_OTP : WRONG));
    const answers = await Promise.all(codes.map((code) => verify(t, phone, code)));
    expect(answers.filter(evaluated).length).toBeLessThanOrEqual(5);
    expect(answers.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
  });

  it('a right code within the allowance signs in once', async () => {
    const phone = uniquePhone();
    await requestCode(t, phone);
    for (let i = 0; i < 4; i++) expect((await verify(t, phone, WRONG)).status).toBe(401);
    expect((await verify(t, phone, TEST_OTP)).status).toBe(200);
  });

  it('limits wrong guesses per client address, across phones', async () => {
    const ip = newIp();
    for (let i = 0; i < 30; i++) {
      const phone = uniquePhone();
      await requestCode(t, phone);
      expect((await verify(t, phone, WRONG, ip)).status).toBe(401);
    }
    const phone = uniquePhone();
    await requestCode(t, phone);
    const limited = await verify(t, phone, TEST_OTP, ip);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.body.retryAfterMs).toBeGreaterThan(0);
    // Right codes are not counted, and other addresses are not affected.
    expect((await verify(t, phone, TEST_OTP)).status).toBe(200);
  });

  it('right codes do not use up the per-address allowance', async () => {
    const ip = newIp();
    for (let i = 0; i < 35; i++)
      expect((await verify(t, uniquePhone(), TEST_OTP, ip)).status).toBe(200);
  });
});

describe('sign-in code guessing with the limits off (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { OTP_MAX_ATTEMPTS: '0', OTP_GUESSES_PER_IP_PER_HOUR: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('evaluates every guess when OTP_MAX_ATTEMPTS=0 and OTP_GUESSES_PER_IP_PER_HOUR=0', async () => {
    const phone = uniquePhone();
    const ip = newIp();
    await requestCode(t, phone, ip);
    for (let i = 0; i < 40; i++) expect((await verify(t, phone, WRONG, ip)).status).toBe(401);
    expect((await verify(t, phone, TEST_OTP, ip)).status).toBe(200);
  });
});
