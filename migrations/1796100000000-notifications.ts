import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Push registrations (per device and provider: an iPhone has an APNs and a VoIP token), the per-user notification settings, and each
 * member's mute of a conversation (held beside the member's other per-conversation state).
 */
export class Notifications1796100000000 implements MigrationInterface {
  name = 'Notifications1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE push_registrations (
        device_id uuid NOT NULL,
        user_id uuid NOT NULL,
        provider text NOT NULL
          CHECK (provider IN ('fcm', 'apns', 'apns-voip', 'webpush', 'unifiedpush')),
        token text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, provider)
      )`);
    await q.query(`CREATE INDEX push_registrations_user_idx ON push_registrations (user_id)`);
    await q.query(`
      CREATE TABLE notification_settings (
        user_id uuid PRIMARY KEY,
        preview boolean NOT NULL DEFAULT false
      )`);
    await q.query(`ALTER TABLE conversation_members ADD COLUMN muted_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversation_members DROP COLUMN muted_until`);
    await q.query(`DROP TABLE notification_settings`);
    await q.query(`DROP TABLE push_registrations`);
  }
}
