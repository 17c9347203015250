import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AccessTokenVerifier } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { UsersModule } from '../users/users.module';
import { AuthPostgresRepository } from './adapters/postgres/auth.postgres.repository';
import { SmsLogSender } from './adapters/log/sms.log.sender';
import { SmsWebhookSender } from './adapters/webhook/sms.webhook.sender';
import { AuthController, DevicesController, PinController } from './auth.controller';
import { AuthService } from './auth.service';
import { DeviceCache } from './device-cache';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { OtpService } from './otp.service';
import { PinService } from './pin.service';
import { PinRepository } from './ports/pin.repository';
import { PinPostgresRepository } from './adapters/postgres/pin.postgres.repository';
import { PurgeExpiredAuthDataProcessor } from './processors/purge-expired-auth-data.processor';
import { AuthRepository } from './ports/auth.repository';
import { SmsSender } from './ports/sms.sender';
import { SigningKeyRepository } from './ports/signing-key.repository';
import { SigningKeyPostgresRepository } from './adapters/postgres/signing-key.postgres.repository';
import { SigningKeys } from './signing-keys';
import { TokenService } from './token.service';

@Module({
  imports: [
    UsersModule,
    PassportModule,
    // Keys come from SigningKeys per call (kid in the header), not from here.
    JwtModule.register({
      signOptions: { algorithm: 'HS256', issuer: 'parley' },
      verifyOptions: { algorithms: ['HS256'], issuer: 'parley' },
    }),
  ],
  controllers: [AuthController, DevicesController, PinController],
  providers: [
    AuthService,
    DeviceCache,
    OtpService,
    PinService,
    { provide: PinRepository, useClass: PinPostgresRepository },
    TokenService,
    SigningKeys,
    { provide: SigningKeyRepository, useClass: SigningKeyPostgresRepository },
    JwtStrategy,
    PurgeExpiredAuthDataProcessor,
    { provide: AccessTokenVerifier, useExisting: AuthService },
    { provide: AuthRepository, useClass: AuthPostgresRepository },
    {
      provide: SmsSender,
      inject: [AppConfig],
      useFactory: (config: AppConfig): SmsSender =>
        config.sms.driver === 'webhook' ? new SmsWebhookSender(config) : new SmsLogSender(),
    },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [AccessTokenVerifier, AuthService, AuthRepository, PinService],
})
export class AuthModule {}
