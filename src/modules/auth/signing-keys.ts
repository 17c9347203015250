import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { SigningKeyRepository, type SigningKey } from './ports/signing-key.repository';

const DAY_MS = 86_400_000;
/** How often an instance reloads the keys (and rotates when it is due). */
export const SIGNING_KEYS_REFRESH_MS = 10 * 60_000;
/** An unknown kid reloads the keys at most this often, so forged kids cost nothing. */
const RELOAD_ON_MISS_MS = 5_000;

const newSecret = () => randomBytes(48).toString('base64url');

/**
 * The keys access tokens are signed with. With JWT_SECRET set it is the one key. Without
 * it, keys live in the database, so every instance on one database signs and verifies
 * alike with no setting: the newest key signs, older ones verify until their tokens have
 * expired, and a new key is made every JWT_ROTATE_DAYS. Tokens carry the key's id (`kid`).
 */
@Injectable()
export class SigningKeys implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SigningKeys.name);
  /** Newest first. */
  private keys: SigningKey[] = [];
  private otpHmacSecret = '';
  private timer?: NodeJS.Timeout;
  private lastReloadAt = 0;

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const configured = this.config.auth.jwtSecret;
    if (configured) {
      this.keys = [{ kid: staticKid(configured), secret: configured, createdAt: new Date(0) }];
      this.otpHmacSecret = configured;
      return;
    }
    await this.refresh();
    this.otpHmacSecret = await this.repo.namedSecret('otp-hmac', newSecret());
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn(`signing keys not refreshed: ${(error as Error).message}`),
      );
    }, SIGNING_KEYS_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The key new tokens are signed with. */
  current(): { kid: string; secret: string } {
    const key = this.keys[0];
    if (!key) throw new Error('Signing keys are not loaded');
    return { kid: key.kid, secret: key.secret };
  }

  /**
   * The secret of a token's key. A token without kid is accepted only with JWT_SECRET
   * (tokens signed before key ids existed); an unknown kid reloads once, since another
   * instance may have just rotated.
   */
  async secretFor(kid: string | undefined): Promise<string | undefined> {
    if (kid === undefined) return this.config.auth.jwtSecret;
    const known = this.keys.find((k) => k.kid === kid);
    if (known || this.config.auth.jwtSecret) return known?.secret;
    if (Date.now() - this.lastReloadAt < RELOAD_ON_MISS_MS) return undefined;
    await this.reload();
    return this.keys.find((k) => k.kid === kid)?.secret;
  }

  /** Keys the hashes of sign-in codes, the same on every instance. */
  get otpSecret(): string {
    return this.otpHmacSecret;
  }

  /** Rotates when due, drops keys whose tokens have all expired, and reloads. */
  async refresh(now = new Date()): Promise<void> {
    const rotateDays = this.config.auth.jwtRotateDays;
    // With rotation off, a key is only made when there is none at all.
    const dueBefore = rotateDays > 0 ? new Date(now.getTime() - rotateDays * DAY_MS) : new Date(0);
    const newest = this.keys[0] ?? (await this.repo.list())[0];
    if (!newest || newest.createdAt.getTime() <= dueBefore.getTime()) {
      if (await this.repo.addUnlessNewerExists({ kid: uuidv7(), secret: newSecret() }, dueBefore))
        this.logger.log('new access-token signing key');
    }
    if (rotateDays > 0) {
      // A key signs until its successor appears, then its tokens live at most the access
      // TTL, plus the time other instances take to notice the successor.
      const lifetimeMs =
        rotateDays * DAY_MS + this.config.auth.accessTtlSec * 1000 + 2 * SIGNING_KEYS_REFRESH_MS;
      await this.repo.deleteCreatedBefore(new Date(now.getTime() - lifetimeMs));
    }
    await this.reload();
  }

  private async reload(): Promise<void> {
    this.lastReloadAt = Date.now();
    const keys = await this.repo.list();
    if (keys.length) this.keys = keys;
  }
}

/** A stable id for the configured secret that does not reveal it. */
function staticKid(secret: string): string {
  return `env-${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}
