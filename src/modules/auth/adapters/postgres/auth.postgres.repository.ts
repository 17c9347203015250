import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type { Device, Platform, RevokeReason } from '../../domain/device';
import {
  AuthRepository,
  type OtpClaim,
  type OtpRecord,
  type RotationOutcome,
} from '../../ports/auth.repository';

interface DeviceRow {
  id: string;
  user_id: string;
  name: string;
  platform: Platform;
  created_at: Date;
  last_active_at: Date;
  revoked_at: Date | null;
}

const deviceColumns = 'id, user_id, name, platform, created_at, last_active_at, revoked_at';

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    platform: r.platform,
    createdAt: r.created_at,
    lastActiveAt: r.last_active_at,
    revokedAt: r.revoked_at,
  };
}

interface OtpRow {
  id: string;
  code_hash: string;
  attempts: number;
  expires_at: Date;
  created_at: Date;
}

function toOtp(r: OtpRow): OtpRecord {
  return {
    id: r.id,
    codeHash: r.code_hash,
    attempts: r.attempts,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  };
}

@Injectable()
export class AuthPostgresRepository extends AuthRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async createOtp(id: string, phone: string, codeHash: string, expiresAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO otp_codes (id, phone, code_hash, expires_at) VALUES ($1, $2, $3, $4)`,
      [id, phone, codeHash, expiresAt],
    );
  }

  async latestLiveOtp(phone: string, now: Date): Promise<OtpRecord | null> {
    const [row] = await this.db.query<OtpRow>(
      `SELECT id, code_hash, attempts, expires_at, created_at FROM otp_codes
        WHERE phone = $1 AND consumed_at IS NULL AND expires_at > $2
        ORDER BY created_at DESC LIMIT 1`,
      [phone, now],
    );
    return row ? toOtp(row) : null;
  }

  async claimOtpAttempt(phone: string, now: Date, maxAttempts: number): Promise<OtpClaim> {
    // The bound sits in the UPDATE's own WHERE: PostgreSQL re-checks it against the row
    // version left by a concurrent winner, so parallel tries cannot all pass it.
    const [row] = await this.db.query<OtpRow>(
      `UPDATE otp_codes SET attempts = attempts + 1
        WHERE id = (SELECT id FROM otp_codes
                     WHERE phone = $1 AND consumed_at IS NULL AND expires_at > $2
                     ORDER BY created_at DESC LIMIT 1)
          AND ($3 = 0 OR attempts < $3)
          AND consumed_at IS NULL
        RETURNING id, code_hash, attempts, expires_at, created_at`,
      [phone, now, maxAttempts],
    );
    if (row) return { status: 'claimed', otp: toOtp(row) };
    const live = await this.latestLiveOtp(phone, now);
    return live ? { status: 'exhausted', expiresAt: live.expiresAt } : { status: 'none' };
  }

  async consumeOtp(id: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE otp_codes SET consumed_at = now() WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id],
    );
    return rows.length === 1;
  }

  async deleteOtpsExpiredBefore(before: Date): Promise<number> {
    const rows = await this.db.query(`DELETE FROM otp_codes WHERE expires_at < $1 RETURNING id`, [
      before,
    ]);
    return rows.length;
  }

  async createDevice(d: {
    id: string;
    userId: string;
    name: string;
    platform: Platform;
  }): Promise<Device> {
    const [row] = await this.db.query<DeviceRow>(
      `INSERT INTO devices (id, user_id, name, platform) VALUES ($1, $2, $3, $4) RETURNING ${deviceColumns}`,
      [d.id, d.userId, d.name, d.platform],
    );
    return toDevice(row);
  }

  async findDevice(id: string): Promise<Device | null> {
    const [row] = await this.db.query<DeviceRow>(
      `SELECT ${deviceColumns} FROM devices WHERE id = $1`,
      [id],
    );
    return row ? toDevice(row) : null;
  }

  async listDevices(userId: string): Promise<Device[]> {
    const rows = await this.db.query<DeviceRow>(
      `SELECT ${deviceColumns} FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at`,
      [userId],
    );
    return rows.map(toDevice);
  }

  async devicesOf(
    userIds: readonly string[],
  ): Promise<Array<{ id: string; userId: string; active: boolean }>> {
    if (!userIds.length) return [];
    const rows = await this.db.query<{ id: string; user_id: string; active: boolean }>(
      `SELECT id, user_id, revoked_at IS NULL AS active FROM devices WHERE user_id = ANY($1::uuid[])`,
      [[...userIds]],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id, active: r.active }));
  }

  async revokeDevice(id: string, reason: RevokeReason): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE devices SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
        [id, reason],
      );
      await tx.query(`DELETE FROM refresh_tokens WHERE device_id = $1`, [id]);
      return rows.length === 1;
    });
  }

  async touchDevice(id: string, at: Date): Promise<void> {
    await this.db.query(`UPDATE devices SET last_active_at = $2 WHERE id = $1`, [id, at]);
  }

  async storeRefreshToken(hash: string, deviceId: string, expiresAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO refresh_tokens (token_hash, device_id, expires_at) VALUES ($1, $2, $3)`,
      [hash, deviceId, expiresAt],
    );
  }

  async rotateRefreshToken(
    oldHash: string,
    newHash: string,
    expiresAt: Date,
  ): Promise<RotationOutcome> {
    return this.db.transaction(async (tx) => {
      const [rotated] = await tx.query<{ device_id: string }>(
        `UPDATE refresh_tokens t SET rotated_at = now()
          FROM devices d
         WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND t.expires_at > now()
           AND d.id = t.device_id AND d.revoked_at IS NULL
         RETURNING t.device_id`,
        [oldHash],
      );
      if (rotated) {
        await tx.query(
          `INSERT INTO refresh_tokens (token_hash, device_id, expires_at) VALUES ($1, $2, $3)`,
          [newHash, rotated.device_id, expiresAt],
        );
        return { status: 'rotated', deviceId: rotated.device_id } as const;
      }
      const [known] = await tx.query<{ device_id: string; rotated_at: Date | null }>(
        `SELECT device_id, rotated_at FROM refresh_tokens WHERE token_hash = $1`,
        [oldHash],
      );
      if (known?.rotated_at) return { status: 'reused', deviceId: known.device_id } as const;
      return { status: 'invalid' } as const;
    });
  }

  async deleteExpiredRefreshTokens(before: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM refresh_tokens WHERE expires_at < $1 RETURNING device_id`,
      [before],
    );
    return rows.length;
  }
}
