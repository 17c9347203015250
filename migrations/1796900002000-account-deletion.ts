import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleted accounts keep their row (their messages stay in others' histories, from "Deleted
 * account") but lose their phone, profile, contacts and blocks.
 */
export class AccountDeletion1796900002000 implements MigrationInterface {
  name = 'AccountDeletion1796900002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN deleted_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN deleted_at`);
  }
}
