import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type { PushProvider, PushRegistration } from '../../domain/push';
import { PushRegistrationRepository } from '../../ports/push-registration.repository';

interface RegistrationRow {
  device_id: string;
  user_id: string;
  provider: PushProvider;
  token: string;
}

const toRegistration = (r: RegistrationRow): PushRegistration => ({
  deviceId: r.device_id,
  userId: r.user_id,
  provider: r.provider,
  token: r.token,
});

@Injectable()
export class PushRegistrationPostgresRepository extends PushRegistrationRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async upsert(r: PushRegistration): Promise<void> {
    await this.db.query(
      `INSERT INTO push_registrations (device_id, user_id, provider, token) VALUES ($1, $2, $3, $4)
       ON CONFLICT (device_id, provider)
       DO UPDATE SET user_id = EXCLUDED.user_id, token = EXCLUDED.token, updated_at = now()`,
      [r.deviceId, r.userId, r.provider, r.token],
    );
  }

  async removeDevice(deviceId: string): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM push_registrations WHERE device_id = $1 RETURNING provider`,
      [deviceId],
    );
    return rows.length;
  }

  async removeToken(deviceId: string, provider: PushProvider, token: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM push_registrations WHERE device_id = $1 AND provider = $2 AND token = $3
       RETURNING provider`,
      [deviceId, provider, token],
    );
    return rows.length > 0;
  }

  async forDevice(deviceId: string): Promise<PushRegistration[]> {
    const rows = await this.db.query<RegistrationRow>(
      `SELECT device_id, user_id, provider, token FROM push_registrations
        WHERE device_id = $1 ORDER BY provider`,
      [deviceId],
    );
    return rows.map(toRegistration);
  }

  async forUsers(userIds: readonly string[]): Promise<PushRegistration[]> {
    if (!userIds.length) return [];
    const rows = await this.db.query<RegistrationRow>(
      `SELECT device_id, user_id, provider, token FROM push_registrations
        WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, device_id, provider`,
      [userIds],
    );
    return rows.map(toRegistration);
  }

  async setPreview(userId: string, preview: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO notification_settings (user_id, preview) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET preview = EXCLUDED.preview`,
      [userId, preview],
    );
  }

  async previewUsers(userIds: readonly string[]): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT user_id FROM notification_settings WHERE preview AND user_id = ANY($1::uuid[])`,
      [userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }
}
