import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type { Platform } from '../../domain/device';
import { PinRepository, type PinChallenge } from '../../ports/pin.repository';

interface ChallengeRow {
  id: string;
  user_id: string;
  device_name: string;
  platform: Platform;
  expires_at: Date;
}

@Injectable()
export class PinPostgresRepository extends PinRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async setPin(userId: string, pinHash: string): Promise<void> {
    await this.db.query(
      `INSERT INTO user_pins (user_id, pin_hash) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET pin_hash = EXCLUDED.pin_hash, updated_at = now()`,
      [userId, pinHash],
    );
  }

  async removePin(userId: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM user_pins WHERE user_id = $1 RETURNING user_id`, [
      userId,
    ]);
    return rows.length === 1;
  }

  async pinHash(userId: string): Promise<string | null> {
    const [row] = await this.db.query<{ pin_hash: string }>(
      `SELECT pin_hash FROM user_pins WHERE user_id = $1`,
      [userId],
    );
    return row?.pin_hash ?? null;
  }

  async createChallenge(c: PinChallenge & { tokenHash: string }): Promise<void> {
    await this.db.query(
      `INSERT INTO pin_challenges (id, token_hash, user_id, device_name, platform, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [c.id, c.tokenHash, c.userId, c.deviceName, c.platform, c.expiresAt],
    );
  }

  async liveChallenge(tokenHash: string, now: Date): Promise<PinChallenge | null> {
    const [row] = await this.db.query<ChallengeRow>(
      `SELECT id, user_id, device_name, platform, expires_at FROM pin_challenges
        WHERE token_hash = $1 AND consumed_at IS NULL AND expires_at > $2`,
      [tokenHash, now],
    );
    return row
      ? {
          id: row.id,
          userId: row.user_id,
          deviceName: row.device_name,
          platform: row.platform,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async consumeChallenge(id: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE pin_challenges SET consumed_at = now() WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id],
    );
    return rows.length === 1;
  }

  async deleteChallengesExpiredBefore(before: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM pin_challenges WHERE expires_at < $1 RETURNING id`,
      [before],
    );
    return rows.length;
  }
}
