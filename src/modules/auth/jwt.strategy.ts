import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthContext } from '../../common/auth/auth-context';
import { AuthService } from './auth.service';
import { TokenService, type AccessTokenClaims } from './token.service';

/** passport-jwt checks signature and expiry; validate() refuses revoked devices. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    tokens: TokenService,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _req: Request,
        rawJwt: string,
        done: (err: unknown, secret?: string) => void,
      ) => {
        tokens.secretOf(rawJwt).then(
          (secret) => done(secret ? null : new Error('unknown signing key'), secret),
          (error: unknown) => done(error),
        );
      },
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  async validate(req: Request, claims: AccessTokenClaims): Promise<AuthContext> {
    const token = ExtractJwt.fromAuthHeaderAsBearerToken()(req) ?? '';
    const auth = await this.auth.verify(token);
    if (auth.userId !== claims.sub) throw new Error('token mismatch');
    return auth;
  }
}
