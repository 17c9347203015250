import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../../common/config/app-config';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppError } from '../../common/errors';
import { SigningKeys } from './signing-keys';

export interface AccessTokenClaims {
  sub: string;
  did: string;
  typ: 'access';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Signs and checks access JWTs; makes opaque refresh tokens (only their hash is stored). */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly keys: SigningKeys,
  ) {}

  get accessTtlSec(): number {
    return this.config.auth.accessTtlSec;
  }

  signAccess(auth: AuthContext): string {
    const claims: AccessTokenClaims = { sub: auth.userId, did: auth.deviceId, typ: 'access' };
    const { kid, secret } = this.keys.current();
    return this.jwt.sign(claims, {
      secret,
      keyid: kid,
      expiresIn: this.config.auth.accessTtlSec,
    });
  }

  /** The secret that verifies this token's signature, or undefined when none does. */
  async secretOf(token: string): Promise<string | undefined> {
    const decoded: unknown = this.jwt.decode(token, { complete: true });
    const header = (decoded as { header?: { kid?: unknown } } | null)?.header;
    if (!header) return undefined;
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== 'string') return undefined;
    return this.keys.secretFor(kid);
  }

  /** Checks signature, expiry and shape; device revocation is checked by the caller. */
  async verifyAccess(token: string): Promise<AuthContext> {
    let claims: Partial<AccessTokenClaims>;
    try {
      const secret = await this.secretOf(token);
      if (!secret) throw new Error('unknown signing key');
      claims = this.jwt.verify<AccessTokenClaims>(token, { secret });
    } catch {
      throw AppError.unauthorized('Invalid or expired access token');
    }
    if (
      claims.typ !== 'access' ||
      typeof claims.sub !== 'string' ||
      typeof claims.did !== 'string'
    ) {
      throw AppError.unauthorized('Invalid access token');
    }
    return { userId: claims.sub, deviceId: claims.did };
  }

  newRefreshToken(): { token: string; hash: string; expiresAt: Date } {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + this.config.auth.refreshTtlDays * 86_400_000);
    return { token, hash: hashToken(token), expiresAt };
  }
}
