import { Injectable } from '@nestjs/common';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { AuthRepository } from './ports/auth.repository';
import { SmsSender } from './ports/sms.sender';
import { SigningKeys } from './signing-keys';

/**
 * One-time sign-in codes: 6 digits, stored as a keyed hash (a bare hash of 10^6 codes
 * would be trivially reversible), limited in lifetime, in wrong tries and in how many
 * a phone may request per window.
 */
@Injectable()
export class OtpService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly sms: SmsSender,
    private readonly config: AppConfig,
    private readonly keys: SigningKeys,
  ) {}

  private hash(phone: string, code: string): string {
    return createHmac('sha256', this.keys.otpSecret)
      .update(`otp:${phone}:${code}`)
      .digest('base64url');
  }

  async issue(phone: string): Promise<{ expiresInSec: number }> {
    const { otpMaxPerWindow, otpWindowSec, otpTtlSec, testOtp } = this.config.auth;
    const now = Date.now();
    if (otpMaxPerWindow > 0) {
      const issued = await this.repo.otpIssuedSince(phone, new Date(now - otpWindowSec * 1000));
      if (issued.length >= otpMaxPerWindow) {
        const oldest = issued[issued.length - otpMaxPerWindow];
        throw AppError.rateLimited(
          oldest.getTime() + otpWindowSec * 1000 - now,
          `At most ${otpMaxPerWindow} codes per ${Math.round(otpWindowSec / 60)} minutes for one phone`,
        );
      }
    }
    const code = testOtp ?? randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.repo.createOtp(
      uuidv7(),
      phone,
      this.hash(phone, code),
      new Date(now + otpTtlSec * 1000),
    );
    if (!testOtp)
      await this.sms.send(
        phone,
        `Your Parley code is ${code}. It expires in ${Math.round(otpTtlSec / 60)} minutes.`,
      );
    return { expiresInSec: otpTtlSec };
  }

  /** Accepts the code once or throws UNAUTHORIZED; a wrong try counts against the code. */
  async verify(phone: string, code: string): Promise<void> {
    const { otpMaxAttempts, testOtp } = this.config.auth;
    const live = await this.repo.latestLiveOtp(phone, new Date());
    if (!live) {
      // With AUTH_TEST_OTP the test code signs in any phone, even without a request.
      if (testOtp && safeEqual(code, testOtp)) return;
      throw AppError.unauthorized('No valid code for this phone; request a new one');
    }
    if (otpMaxAttempts > 0 && live.attempts >= otpMaxAttempts) {
      throw AppError.unauthorized('Too many wrong attempts; request a new code');
    }
    if (!safeEqual(this.hash(phone, code), live.codeHash)) {
      await this.repo.recordFailedAttempt(live.id);
      throw AppError.unauthorized('Wrong code');
    }
    if (!(await this.repo.consumeOtp(live.id))) {
      throw AppError.unauthorized('This code was already used; request a new one');
    }
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
