import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, their devices and sessions, OTP codes, contacts and blocks. */
export class Identity1764000000000 implements MigrationInterface {
  name = 'Identity1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        phone text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        about text NOT NULL DEFAULT '',
        last_seen_privacy text NOT NULL DEFAULT 'everyone'
          CHECK (last_seen_privacy IN ('everyone', 'contacts', 'nobody')),
        read_receipts boolean NOT NULL DEFAULT true,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE devices (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT '',
        platform text NOT NULL DEFAULT 'web' CHECK (platform IN ('ios', 'android', 'web', 'desktop')),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_active_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await q.query(`CREATE INDEX devices_user_idx ON devices (user_id) WHERE revoked_at IS NULL`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_device_idx ON refresh_tokens (device_id)`);
    await q.query(`
      CREATE TABLE otp_codes (
        id uuid PRIMARY KEY,
        phone text NOT NULL,
        code_hash text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz
      )`);
    await q.query(`CREATE INDEX otp_codes_phone_idx ON otp_codes (phone, created_at DESC)`);
    await q.query(`
      CREATE TABLE contacts (
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        phone text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (owner_id, phone)
      )`);
    await q.query(`CREATE INDEX contacts_phone_idx ON contacts (phone)`);
    await q.query(`
      CREATE TABLE blocks (
        blocker_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        blocked_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (blocker_id, blocked_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE blocks, contacts, otp_codes, refresh_tokens, devices, users`);
  }
}
