import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a former member last saw of a group (its name and size when they left), so their
 * conversation list does not reveal later renames or membership changes.
 */
export class LeftSnapshot1795640000000 implements MigrationInterface {
  name = 'LeftSnapshot1795640000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE conversation_members ADD COLUMN left_name text, ADD COLUMN left_member_count int`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE conversation_members DROP COLUMN left_name, DROP COLUMN left_member_count`,
    );
  }
}
