import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is calling: a user acting through one of their devices. */
export interface AuthContext {
  userId: string;
  deviceId: string;
}

/** Verifies access tokens; implemented by the auth module, used by HTTP and socket entry points. */
export abstract class AccessTokenVerifier {
  /** Resolves the caller or throws an UNAUTHORIZED AppError (bad, expired or revoked token). */
  abstract verify(token: string): Promise<AuthContext>;
}

export const CurrentAuth = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthContext => {
    const request = ctx.switchToHttp().getRequest<{ user?: AuthContext }>();
    if (!request.user) throw new Error('CurrentAuth used on a public route');
    return request.user;
  },
);
