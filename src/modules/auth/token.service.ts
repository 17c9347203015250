import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../../common/config/app-config';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppError } from '../../common/errors';

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
  ) {}

  get accessTtlSec(): number {
    return this.config.auth.accessTtlSec;
  }

  signAccess(auth: AuthContext): string {
    const claims: AccessTokenClaims = { sub: auth.userId, did: auth.deviceId, typ: 'access' };
    return this.jwt.sign(claims, { expiresIn: this.config.auth.accessTtlSec });
  }

  /** Checks signature, expiry and shape; device revocation is checked by the caller. */
  verifyAccess(token: string): AuthContext {
    let claims: Partial<AccessTokenClaims>;
    try {
      claims = this.jwt.verify<AccessTokenClaims>(token);
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
