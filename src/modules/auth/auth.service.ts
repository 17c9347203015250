import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { AccessTokenVerifier, type AuthContext } from '../../common/auth/auth-context';
import { AppError } from '../../common/errors';
import { DomainEvents } from '../../common/events/domain-events';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { UsersService } from '../users/users.service';
import { DeviceCache } from './device-cache';
import type { Device, Platform, RevokeReason } from './domain/device';
import { OtpService } from './otp.service';
import { PinService } from './pin.service';
import { AuthRepository } from './ports/auth.repository';
import { hashToken, TokenService } from './token.service';

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresInSec: number;
  userId: string;
  deviceId: string;
  isNewUser: boolean;
}

@Injectable()
export class AuthService extends AccessTokenVerifier {
  constructor(
    private readonly repo: AuthRepository,
    private readonly otp: OtpService,
    private readonly pins: PinService,
    private readonly tokens: TokenService,
    private readonly users: UsersService,
    private readonly events: DomainEvents,
    private readonly realtime: RealtimeEmitter,
    private readonly devices: DeviceCache,
  ) {
    super();
  }

  async requestOtp(phone: string, clientIp: string): Promise<{ expiresInSec: number }> {
    await this.refuseBanned(phone);
    return this.otp.issue(phone, clientIp);
  }

  private async refuseBanned(phone: string): Promise<void> {
    if (await this.users.isPhoneBanned(phone)) throw AppError.banned();
  }

  async verifyOtp(input: {
    phone: string;
    code: string;
    deviceName?: string;
    platform?: Platform;
    clientIp: string;
  }): Promise<Session> {
    await this.refuseBanned(input.phone);
    await this.otp.verify(input.phone, input.code, input.clientIp);
    const { user, created } = await this.users.findOrCreateByPhone(input.phone);
    const deviceName = input.deviceName ?? '';
    const platform = input.platform ?? 'web';
    if (!created && (await this.pins.isSet(user.id)))
      throw await this.pins.challenge(user.id, deviceName, platform);
    return this.signInDevice({ userId: user.id, phone: user.phone, deviceName, platform }, created);
  }

  /** The second step of a sign-in whose account has a PIN: answers as verifyOtp does. */
  async verifyPin(pinToken: string, pin: string): Promise<Session> {
    const challenge = await this.pins.redeem(pinToken, pin);
    const user = await this.users.get(challenge.userId);
    await this.refuseBanned(user.phone);
    return this.signInDevice({ ...challenge, phone: user.phone }, false);
  }

  private async signInDevice(
    input: { userId: string; phone: string; deviceName: string; platform: Platform },
    isNewUser: boolean,
  ): Promise<Session> {
    const device = await this.repo.createDevice({
      id: uuidv7(),
      userId: input.userId,
      name: input.deviceName,
      platform: input.platform,
    });
    // A ban that landed while this sign-in ran has already revoked the devices it saw.
    if (await this.users.isPhoneBanned(input.phone)) {
      await this.repo.revokeDevice(device.id, 'banned');
      throw AppError.banned();
    }
    await this.events.publish('device.registered', { userId: input.userId, deviceId: device.id });
    this.devices.remember(device.id, input.userId);
    return this.openSession({ userId: input.userId, deviceId: device.id }, isNewUser);
  }

  async refresh(refreshToken: string): Promise<Session> {
    const next = this.tokens.newRefreshToken();
    const outcome = await this.repo.rotateRefreshToken(
      hashToken(refreshToken),
      next.hash,
      next.expiresAt,
    );
    if (outcome.status === 'reused') {
      // A retired token coming back means it leaked: end the whole device session.
      await this.revoke(outcome.deviceId, 'token_reuse');
      throw AppError.unauthorized('Refresh token reuse detected; the session was revoked');
    }
    if (outcome.status !== 'rotated')
      throw AppError.unauthorized('Invalid or expired refresh token');
    const device = await this.repo.findDevice(outcome.deviceId);
    if (!device || device.revokedAt) throw AppError.unauthorized('Session revoked');
    await this.repo.touchDevice(device.id, new Date());
    return {
      accessToken: this.tokens.signAccess({ userId: device.userId, deviceId: device.id }),
      refreshToken: next.token,
      expiresInSec: this.tokens.accessTtlSec,
      userId: device.userId,
      deviceId: device.id,
      isNewUser: false,
    };
  }

  async logout(auth: AuthContext): Promise<void> {
    await this.revoke(auth.deviceId, 'logout');
  }

  listDevices(userId: string): Promise<Device[]> {
    return this.repo.listDevices(userId);
  }

  /** Every device of these users, revoked ones included, with whether it is signed in. */
  devicesOf(
    userIds: readonly string[],
  ): Promise<Array<{ id: string; userId: string; active: boolean }>> {
    return this.repo.devicesOf(userIds);
  }

  /** The user a signed-in (not revoked) device belongs to; null if there is none. */
  async activeDeviceOwner(deviceId: string): Promise<string | null> {
    const device = await this.repo.findDevice(deviceId);
    return device && !device.revokedAt ? device.userId : null;
  }

  async removeDevice(auth: AuthContext, deviceId: string): Promise<void> {
    const device = await this.repo.findDevice(deviceId);
    if (!device || device.userId !== auth.userId || device.revokedAt)
      throw AppError.notFound('Device');
    await this.revoke(deviceId, 'device_removed');
  }

  /**
   * Accepts a sign-in code of the caller's phone requested after the account's last sign-in
   * (for acts that need more than a stolen unlocked device: deleting the account), or throws.
   */
  async confirmFreshCode(auth: AuthContext, code: string, clientIp: string): Promise<void> {
    const user = await this.users.get(auth.userId);
    const devices = await this.repo.listDevices(auth.userId);
    const lastSignIn = new Date(Math.max(...devices.map((d) => d.createdAt.getTime())));
    await this.otp.verify(user.phone, code, clientIp, { issuedAfter: lastSignIn });
  }

  /** Ends every session of a user at once: devices revoked, sockets dropped on every instance. */
  async endAllSessions(userId: string, reason: RevokeReason): Promise<void> {
    const devices = await this.repo.listDevices(userId);
    await Promise.all(devices.map((d) => this.revoke(d.id, reason)));
  }

  /** Resolves an access token to its caller, refusing revoked devices at once. */
  async verify(token: string): Promise<AuthContext> {
    const auth = await this.tokens.verifyAccess(token);
    if ((await this.devices.activeOwner(auth.deviceId)) !== auth.userId) {
      throw AppError.unauthorized('Session revoked');
    }
    return auth;
  }

  private async openSession(auth: AuthContext, isNewUser: boolean): Promise<Session> {
    const refresh = this.tokens.newRefreshToken();
    await this.repo.storeRefreshToken(refresh.hash, auth.deviceId, refresh.expiresAt);
    return {
      accessToken: this.tokens.signAccess(auth),
      refreshToken: refresh.token,
      expiresInSec: this.tokens.accessTtlSec,
      userId: auth.userId,
      deviceId: auth.deviceId,
      isNewUser,
    };
  }

  private async revoke(deviceId: string, reason: RevokeReason): Promise<void> {
    const device = await this.repo.findDevice(deviceId);
    await this.repo.revokeDevice(deviceId, reason);
    await this.devices.revokedNow(deviceId);
    this.realtime.disconnectDevice(deviceId, reason);
    if (device) await this.events.publish('device.revoked', { userId: device.userId, deviceId });
  }
}
