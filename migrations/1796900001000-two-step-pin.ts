import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Two-step verification: a user's PIN, and the sign-ins waiting for it. */
export class TwoStepPin1796900001000 implements MigrationInterface {
  name = 'TwoStepPin1796900001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_pins (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        pin_hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE pin_challenges (
        id uuid PRIMARY KEY,
        token_hash text NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device_name text NOT NULL DEFAULT '',
        platform text NOT NULL DEFAULT 'web',
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz
      )`);
    await q.query(`CREATE INDEX pin_challenges_expiry_idx ON pin_challenges (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pin_challenges, user_pins`);
  }
}
