import { Injectable } from '@nestjs/common';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError, ErrorCode } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import type { Platform } from './domain/device';
import { PinRepository, type PinChallenge } from './ports/pin.repository';
import { hashToken } from './token.service';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
) => Promise<Buffer>;

const HOUR_MS = 3_600_000;
/** How long a sign-in that passed its code may wait for the PIN (PROTOCOL.md: 10 minutes). */
export const PIN_TOKEN_TTL_MS = 600_000;

/**
 * Two-step verification: a 6-digit PIN asked at every sign-in of an account that set one.
 * Stored salted and slow-hashed (scrypt); wrong PINs are limited per account, counted before
 * the PIN is compared so parallel guesses cannot pass the bound.
 */
@Injectable()
export class PinService {
  constructor(
    private readonly repo: PinRepository,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async set(userId: string, pin: string): Promise<void> {
    const salt = randomBytes(16);
    const hash = await scryptAsync(pin, salt, 32);
    await this.repo.setPin(
      userId,
      `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`,
    );
  }

  async remove(userId: string): Promise<void> {
    await this.repo.removePin(userId);
  }

  async isSet(userId: string): Promise<boolean> {
    return (await this.repo.pinHash(userId)) !== null;
  }

  /** Parks a sign-in until the PIN comes: the error carries the token to send it with. */
  async challenge(userId: string, deviceName: string, platform: Platform): Promise<AppError> {
    const token = `pt_${randomBytes(32).toString('base64url')}`;
    await this.repo.createChallenge({
      id: uuidv7(),
      tokenHash: hashToken(token),
      userId,
      deviceName,
      platform,
      expiresAt: new Date(Date.now() + PIN_TOKEN_TTL_MS),
    });
    return new AppError(ErrorCode.PIN_REQUIRED, 'This account needs its two-step PIN', {
      pinToken: token,
    });
  }

  /**
   * The parked sign-in of a right PIN, consumed; UNAUTHORIZED for an unknown, expired or used
   * token or a wrong PIN (the token stays usable), RATE_LIMITED once the account's wrong PINs
   * reach PIN_MAX_ATTEMPTS within an hour.
   */
  async redeem(pinToken: string, pin: string): Promise<PinChallenge> {
    const challenge = await this.repo.liveChallenge(hashToken(pinToken), new Date());
    if (!challenge) throw AppError.unauthorized('Invalid or expired pinToken; sign in again');
    const max = this.config.auth.pinMaxAttempts;
    const key = `pin-try:${challenge.userId}`;
    if (max > 0) {
      // Every try is counted first and a right one given back, so at most `max` wrong
      // PINs are ever compared per hour, however many arrive at once.
      const decision = await this.limiter.consume(key, max, HOUR_MS);
      if (!decision.allowed)
        throw AppError.rateLimited(decision.retryAfterMs, 'Too many wrong PINs; try again later');
    }
    const stored = await this.repo.pinHash(challenge.userId);
    // A PIN removed meanwhile (from a signed-in device) asks nothing any more.
    if (stored && !(await matches(pin, stored))) throw AppError.unauthorized('Wrong PIN');
    if (max > 0) await this.limiter.refund(key);
    if (!(await this.repo.consumeChallenge(challenge.id)))
      throw AppError.unauthorized('This pinToken was already used; sign in again');
    return challenge;
  }
}

async function matches(pin: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(pin, Buffer.from(salt, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}
