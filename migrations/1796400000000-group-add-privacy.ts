import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who may add a user to groups: everyone (the default), their contacts, or nobody. */
export class GroupAddPrivacy1796400000000 implements MigrationInterface {
  name = 'GroupAddPrivacy1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE users ADD COLUMN group_add_privacy text NOT NULL DEFAULT 'everyone'
         CHECK (group_add_privacy IN ('everyone', 'contacts', 'nobody'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN group_add_privacy`);
  }
}
