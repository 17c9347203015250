import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { RealtimeGateway } from './realtime.gateway';

/**
 * The Socket.IO gateway. It needs an AccessTokenVerifier; the module that provides one is
 * passed in by the app, so common/ never names a feature module (ADR 0001).
 */
@Module({})
export class RealtimeGatewayModule {
  static withVerifierFrom(verifierModule: Type): DynamicModule {
    return {
      module: RealtimeGatewayModule,
      imports: [verifierModule],
      providers: [RealtimeGateway],
    };
  }
}
