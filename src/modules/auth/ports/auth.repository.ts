import type { Device, Platform, RevokeReason } from '../domain/device';

export interface OtpRecord {
  id: string;
  codeHash: string;
  attempts: number;
  expiresAt: Date;
  createdAt: Date;
}

export type OtpClaim =
  | { status: 'claimed'; otp: OtpRecord }
  | { status: 'exhausted'; expiresAt: Date }
  | { status: 'none' };

export type RotationOutcome =
  | { status: 'rotated'; deviceId: string }
  | { status: 'reused'; deviceId: string }
  | { status: 'invalid' };

/** Storage of OTP codes, devices and refresh tokens. */
export abstract class AuthRepository {
  abstract createOtp(id: string, phone: string, codeHash: string, expiresAt: Date): Promise<void>;
  /** The newest code of a phone that is neither consumed nor expired. */
  abstract latestLiveOtp(phone: string, now: Date): Promise<OtpRecord | null>;
  /**
   * Counts one try against the phone's newest live code and returns that code, in one
   * atomic step: however many requests arrive at once, at most `maxAttempts` tries are
   * granted per code (0 = no bound). `exhausted` when the newest live code has used up its
   * tries, `none` when the phone has no live code.
   */
  abstract claimOtpAttempt(phone: string, now: Date, maxAttempts: number): Promise<OtpClaim>;
  /** Marks a code used; false when another request consumed it first. */
  abstract consumeOtp(id: string): Promise<boolean>;
  abstract deleteOtpsExpiredBefore(before: Date): Promise<number>;

  abstract createDevice(device: {
    id: string;
    userId: string;
    name: string;
    platform: Platform;
  }): Promise<Device>;
  abstract findDevice(id: string): Promise<Device | null>;
  abstract listDevices(userId: string): Promise<Device[]>;
  /** Every device of these users, revoked ones included (id, owner, whether signed in). */
  abstract devicesOf(
    userIds: readonly string[],
  ): Promise<Array<{ id: string; userId: string; active: boolean }>>;
  /** Revokes a device and drops its refresh tokens; false if it was already revoked. */
  abstract revokeDevice(id: string, reason: RevokeReason): Promise<boolean>;
  abstract touchDevice(id: string, at: Date): Promise<void>;

  abstract storeRefreshToken(hash: string, deviceId: string, expiresAt: Date): Promise<void>;
  /** Atomically retires `oldHash` and stores `newHash`; reports reuse of a retired token. */
  abstract rotateRefreshToken(
    oldHash: string,
    newHash: string,
    expiresAt: Date,
  ): Promise<RotationOutcome>;
  abstract deleteExpiredRefreshTokens(before: Date): Promise<number>;
}
