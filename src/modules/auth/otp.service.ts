import { Injectable } from '@nestjs/common';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { AuthRepository } from './ports/auth.repository';
import { SmsSender } from './ports/sms.sender';
import { SigningKeys } from './signing-keys';

/**
 * One-time sign-in codes: 6 digits, stored as a keyed hash (a bare hash of 10^6 codes
 * would be trivially reversible), limited in lifetime and in tries, and sent within
 * per-phone, per-address, per-number-block and global limits (SMS costs money).
 */
const HOUR_MS = 3_600_000;

@Injectable()
export class OtpService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly sms: SmsSender,
    private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly limiter: RateLimiter,
  ) {}

  private hash(phone: string, code: string): string {
    return createHmac('sha256', this.keys.otpSecret)
      .update(`otp:${phone}:${code}`)
      .digest('base64url');
  }

  async issue(phone: string, clientIp: string): Promise<{ expiresInSec: number }> {
    const { otpTtlSec, testOtp } = this.config.auth;
    // With the test code nothing is sent, so there is nothing for the sending limits to guard.
    if (!testOtp) await this.takeSendingAllowance(phone, clientIp);
    const code = testOtp ?? randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.repo.createOtp(
      uuidv7(),
      phone,
      this.hash(phone, code),
      new Date(Date.now() + otpTtlSec * 1000),
    );
    if (!testOtp)
      await this.sms.send(
        phone,
        `Your Parley code is ${code}. It expires in ${Math.round(otpTtlSec / 60)} minutes.`,
      );
    return { expiresInSec: otpTtlSec };
  }

  /**
   * Counts one SMS against every sending limit, or none of them: a request refused by one
   * limit gives back what it took from the others, so refused floods use up nothing. A
   * refused request makes no code either, so the code its owner already has keeps working.
   */
  private async takeSendingAllowance(phone: string, clientIp: string): Promise<void> {
    const a = this.config.auth;
    const limits: Array<{ key: string; limit: number; windowMs: number; what: string }> = [
      {
        key: `otp-send:phone-window:${phone}`,
        limit: a.otpMaxPerWindow,
        windowMs: a.otpWindowSec * 1000,
        what: `At most ${a.otpMaxPerWindow} codes per ${Math.round(a.otpWindowSec / 60)} minutes for one phone`,
      },
      {
        key: `otp-send:phone:${phone}`,
        limit: a.otpPerPhonePerHour,
        windowMs: HOUR_MS,
        what: 'Too many codes for this phone',
      },
      {
        key: `otp-send:ip:${clientIp}`,
        limit: a.otpPerIpPerHour,
        windowMs: HOUR_MS,
        what: 'Too many codes requested from this address',
      },
      {
        key: `otp-send:prefix:${numberBlock(phone)}`,
        limit: a.otpPerPrefixPerHour,
        windowMs: HOUR_MS,
        what: 'Too many codes for this number range',
      },
      {
        key: 'otp-send:global',
        limit: a.otpGlobalPerHour,
        windowMs: HOUR_MS,
        what: 'The server is sending too many codes; try again later',
      },
    ];
    const taken: string[] = [];
    for (const { key, limit, windowMs, what } of limits) {
      if (limit <= 0) continue;
      const decision = await this.limiter.consume(key, limit, windowMs);
      if (!decision.allowed) {
        await Promise.all(taken.map((k) => this.limiter.refund(k)));
        throw AppError.rateLimited(decision.retryAfterMs, what);
      }
      taken.push(key);
    }
  }

  /**
   * Accepts the code once or throws. Each try is counted against the code before it is
   * looked at (at most OTP_MAX_ATTEMPTS, atomically); a dead code answers RATE_LIMITED until
   * a new one is requested. Wrong codes are also counted per client address.
   */
  async verify(
    phone: string,
    code: string,
    clientIp: string,
    options: { issuedAfter?: Date } = {},
  ): Promise<void> {
    const { otpMaxAttempts, otpGuessesPerIpPerHour, testOtp } = this.config.auth;
    const ipKey = `otp-guess:ip:${clientIp}`;
    if (otpGuessesPerIpPerHour > 0) {
      // Only wrong codes count, so the address is checked here and charged once a try is
      // known to be wrong. A burst can pass this check together, but each code still
      // takes at most OTP_MAX_ATTEMPTS tries, counted atomically below.
      const decision = await this.limiter.peek(ipKey, otpGuessesPerIpPerHour, HOUR_MS);
      if (!decision.allowed)
        throw AppError.rateLimited(decision.retryAfterMs, 'Too many wrong codes from this address');
    }
    const wrong = async (message: string): Promise<AppError> => {
      if (otpGuessesPerIpPerHour > 0)
        await this.limiter.consume(ipKey, otpGuessesPerIpPerHour, HOUR_MS);
      return AppError.unauthorized(message);
    };
    const now = new Date();
    const claim = await this.repo.claimOtpAttempt(phone, now, otpMaxAttempts);
    if (claim.status === 'exhausted') {
      throw AppError.rateLimited(
        claim.expiresAt.getTime() - now.getTime(),
        'Too many wrong tries; request a new code',
      );
    }
    if (claim.status === 'none') {
      // With AUTH_TEST_OTP the test code signs in any phone, even without a request (but
      // a fresh code must still have been requested).
      if (testOtp && !options.issuedAfter && safeEqual(code, testOtp)) return;
      throw await wrong('No valid code for this phone; request a new one');
    }
    if (!safeEqual(this.hash(phone, code), claim.otp.codeHash)) throw await wrong('Wrong code');
    if (options.issuedAfter && claim.otp.createdAt <= options.issuedAfter)
      throw AppError.unauthorized('This code is older than your last sign-in; request a new one');
    if (!(await this.repo.consumeOtp(claim.otp.id))) {
      throw AppError.unauthorized('This code was already used; request a new one');
    }
  }
}

/** The phone's number block: all but its last 4 digits, the unit premium-rate ranges come in. */
function numberBlock(phone: string): string {
  return phone.slice(0, -4);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
