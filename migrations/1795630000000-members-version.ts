import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A counter bumped by every membership change, under the conversation row lock. A send
 * reads it in its own transaction, so the sender can tell whether its cached member list
 * is the one in force at the message's seq.
 */
export class MembersVersion1795630000000 implements MigrationInterface {
  name = 'MembersVersion1795630000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversations ADD COLUMN members_version bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversations DROP COLUMN members_version`);
  }
}
