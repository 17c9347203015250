import { uniquePhone } from '../utils/clients';
import { http, type HttpResult } from '../utils/http';
import { startSmsGateway, type SmsGateway } from '../utils/sms-gateway';
import { startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';
import { eventually } from '../utils/wait';

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

  it('a burst of right codes from one address all sign in', async () => {
    const ip = newIp();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => verify(t, uniquePhone(), TEST_OTP, ip)),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
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

let blockCounter = 0;
/** A number block (all but the last 4 digits) no other test here uses. */
const newBlock = () => {
  blockCounter += 1;
  return `+1777${(process.pid % 1000).toString().padStart(3, '0')}${blockCounter.toString().padStart(4, '0')}`;
};
/** A phone alone in its number block, so number-block limits of one test never touch another. */
const phoneOfItsOwn = () => `${newBlock()}0000`;
/** `count` phones that differ only in their last 4 digits (one number block). */
const phonesInOneBlock = (count: number): string[] => {
  const block = newBlock();
  return Array.from({ length: count }, (_, i) => `${block}${i.toString().padStart(4, '0')}`);
};

const expectLimited = (r: HttpResult) => {
  expect(r.status).toBe(429);
  expect(r.body.code).toBe('RATE_LIMITED');
  expect(r.body.retryAfterMs).toBeGreaterThan(0);
  expect(r.body.retryAfterMs).toBeLessThanOrEqual(3_600_000);
};

describe('sign-in code issuance limits (e2e)', () => {
  let t: TestApp;
  let sms: SmsGateway;

  beforeAll(async () => {
    sms = await startSmsGateway();
    t = await startTestApp({
      env: {
        ...sms.env,
        OTP_PER_PHONE_PER_HOUR: '5',
        OTP_PER_IP_PER_HOUR: '20',
        OTP_PER_PREFIX_PER_HOUR: '8',
        OTP_GLOBAL_PER_HOUR: '0',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await sms.close();
  });

  it('sends at most 5 codes an hour to one phone, however many requests arrive at once', async () => {
    const phone = phoneOfItsOwn();
    const answers = await Promise.all(Array.from({ length: 30 }, () => requestCode(t, phone)));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(5);
    for (const a of answers.filter((r) => r.status !== 202)) expectLimited(a);
    expect(sms.inbox.filter((m) => m.to === phone)).toHaveLength(5);
  });

  it("a third party's requests do not lock the owner out: the code already sent still verifies", async () => {
    const phone = phoneOfItsOwn();
    // The hour's five codes go out one after another, so the owner's last SMS holds the
    // code the server keeps (codes sent at once may arrive in any order).
    for (let i = 0; i < 5; i++) expect((await requestCode(t, phone)).status).toBe(202);
    // Then someone else asks for codes to the owner's phone from many addresses at once.
    const flood = await Promise.all(Array.from({ length: 10 }, () => requestCode(t, phone)));
    for (const a of flood) expectLimited(a);
    // The refused requests made no code, so the last one the owner received still works.
    await eventually(() => expect(sms.inbox.filter((m) => m.to === phone)).toHaveLength(5));
    expect((await verify(t, phone, sms.codeSentTo(phone))).status).toBe(200);
  });

  it('sends at most 20 codes an hour to requests from one address', async () => {
    const ip = newIp();
    for (let i = 0; i < 20; i++)
      expect((await requestCode(t, phoneOfItsOwn(), ip)).status).toBe(202);
    expectLimited(await requestCode(t, phoneOfItsOwn(), ip));
    expect((await requestCode(t, phoneOfItsOwn())).status).toBe(202);
  });

  it('limits codes to one number block, which toll fraud walks through', async () => {
    const phones = phonesInOneBlock(9);
    for (const phone of phones.slice(0, 8)) expect((await requestCode(t, phone)).status).toBe(202);
    expectLimited(await requestCode(t, phones[8]));
    expect((await requestCode(t, phoneOfItsOwn())).status).toBe(202);
  });
});

describe('sign-in code issuance: global ceiling, and the limits off (e2e)', () => {
  let capped: TestApp;
  let open: TestApp;
  let sms: SmsGateway;

  beforeAll(async () => {
    sms = await startSmsGateway();
    capped = await startTestApp({ env: { ...sms.env, OTP_GLOBAL_PER_HOUR: '6' } });
    open = await startTestApp({
      env: {
        ...sms.env,
        OTP_PER_PHONE_PER_HOUR: '0',
        OTP_PER_IP_PER_HOUR: '0',
        OTP_PER_PREFIX_PER_HOUR: '0',
        OTP_GLOBAL_PER_HOUR: '0',
      },
    });
  });
  afterAll(async () => {
    await capped.close();
    await open.close();
    await sms.close();
  });

  it('sends at most OTP_GLOBAL_PER_HOUR codes in all', async () => {
    const answers = await Promise.all(
      Array.from({ length: 15 }, () => requestCode(capped, phoneOfItsOwn())),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(6);
    for (const a of answers.filter((r) => r.status !== 202)) expectLimited(a);
  });

  it('0 turns each sending limit off', async () => {
    const ip = newIp();
    const phone = phoneOfItsOwn();
    for (let i = 0; i < 25; i++) expect((await requestCode(open, phone, ip)).status).toBe(202);
    for (const p of phonesInOneBlock(12)) expect((await requestCode(open, p, ip)).status).toBe(202);
  });

  it('with AUTH_TEST_OTP nothing is sent, so the sending limits do not apply', async () => {
    const testCodes = await startTestApp({
      env: { OTP_PER_PHONE_PER_HOUR: '1', OTP_PER_IP_PER_HOUR: '1', OTP_GLOBAL_PER_HOUR: '1' },
    });
    try {
      const phone = phoneOfItsOwn();
      for (let i = 0; i < 4; i++) expect((await requestCode(testCodes, phone)).status).toBe(202);
      expect((await verify(testCodes, phone, TEST_OTP)).status).toBe(200);
    } finally {
      await testCodes.close();
    }
  });
});
