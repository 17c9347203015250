import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disappearing messages: a conversation's timer, and each message's expiry fixed when it
 * is stored (a later change of the timer does not move it).
 */
export class Disappearing1796300001000 implements MigrationInterface {
  name = 'Disappearing1796300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE conversations ADD COLUMN disappear_after_sec int NOT NULL DEFAULT 0`,
    );
    await q.query(`ALTER TABLE messages ADD COLUMN expires_at timestamptz`);
    // The purge job walks only the messages that expire.
    await q.query(
      `CREATE INDEX messages_expires_at_idx ON messages (expires_at) WHERE expires_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_expires_at_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN expires_at`);
    await q.query(`ALTER TABLE conversations DROP COLUMN disappear_after_sec`);
  }
}
