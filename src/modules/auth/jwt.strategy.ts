import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AuthService } from './auth.service';
import type { AccessTokenClaims } from './token.service';

/** passport-jwt checks signature and expiry; validate() refuses revoked devices. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.auth.jwtSecret,
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
