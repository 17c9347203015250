import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Edits, deletes and reactions are messages that point at their target; the target's
 * current state (edited body, tombstone, reactions) is kept on it so history reads need
 * no replay. Reactions are one small row per member per message, never a copy per reader.
 */
export class MessageFeatures1796200000000 implements MigrationInterface {
  name = 'MessageFeatures1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP CONSTRAINT messages_type_check`);
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_type_check CHECK (type IN
         ('text', 'image', 'video', 'audio', 'document', 'system', 'edit', 'delete', 'reaction'))`,
    );
    await q.query(`ALTER TABLE messages ALTER COLUMN body DROP NOT NULL`);
    await q.query(
      `ALTER TABLE messages ADD COLUMN target_id uuid, ADD COLUMN forward_score int NOT NULL DEFAULT 0`,
    );
    await q.query(
      `CREATE INDEX messages_target_idx ON messages (target_id) WHERE target_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE message_reactions (
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        emoji text NOT NULL,
        reacted_seq bigint NOT NULL,
        withheld_from uuid,
        PRIMARY KEY (message_id, user_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_reactions`);
    await q.query(`DROP INDEX messages_target_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN target_id, DROP COLUMN forward_score`);
    await q.query(`DELETE FROM messages WHERE type IN ('edit', 'delete', 'reaction')`);
    await q.query(`UPDATE messages SET body = '' WHERE body IS NULL`);
    await q.query(`ALTER TABLE messages ALTER COLUMN body SET NOT NULL`);
    await q.query(`ALTER TABLE messages DROP CONSTRAINT messages_type_check`);
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_type_check CHECK (type IN
         ('text', 'image', 'video', 'audio', 'document', 'system'))`,
    );
  }
}
