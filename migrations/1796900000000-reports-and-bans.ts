import type { MigrationInterface, QueryRunner } from 'typeorm';

/** User reports for operators to review, and account bans. */
export class ReportsAndBans1796900000000 implements MigrationInterface {
  name = 'ReportsAndBans1796900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN banned_at timestamptz`);
    await q.query(`
      CREATE TABLE reports (
        id uuid PRIMARY KEY,
        reporter_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        reported_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        message_id uuid,
        reason text NOT NULL CHECK (reason IN ('spam', 'abuse', 'other')),
        note text NOT NULL DEFAULT '',
        messages jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reports_reported_idx ON reports (reported_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reports`);
    await q.query(`ALTER TABLE users DROP COLUMN banned_at`);
  }
}
