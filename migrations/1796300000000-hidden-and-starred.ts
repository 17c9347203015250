import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user marks on messages: "delete for me" and stars. One row per user and message, so
 * hiding or starring many messages is one multi-row insert, and the marks go with the
 * message when it is purged.
 */
export class HiddenAndStarred1796300000000 implements MigrationInterface {
  name = 'HiddenAndStarred1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message_hidden (
        user_id uuid NOT NULL,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL,
        hidden_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, message_id)
      )`);
    await q.query(`CREATE INDEX message_hidden_message_idx ON message_hidden (message_id)`);
    await q.query(`
      CREATE TABLE message_stars (
        user_id uuid NOT NULL,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        starred_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, message_id)
      )`);
    // The starred list pages newest first.
    await q.query(
      `CREATE INDEX message_stars_user_time_idx ON message_stars (user_id, starred_at DESC, message_id DESC)`,
    );
    await q.query(`CREATE INDEX message_stars_message_idx ON message_stars (message_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_stars, message_hidden`);
  }
}
