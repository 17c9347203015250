import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations, members with cumulative watermarks, messages and per-device delivery
 * positions. A message is one row whatever the audience; delivery and receipts are
 * watermarks (one row per member or device, never per member per message).
 */
export class Messaging1764000001000 implements MigrationInterface {
  name = 'Messaging1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        type text NOT NULL CHECK (type IN ('direct', 'group')),
        direct_key text UNIQUE,
        name text,
        description text NOT NULL DEFAULT '',
        created_by uuid NOT NULL,
        only_admins_can_send boolean NOT NULL DEFAULT false,
        only_admins_can_edit_info boolean NOT NULL DEFAULT false,
        member_count int NOT NULL DEFAULT 0,
        last_seq bigint NOT NULL DEFAULT 0,
        last_message_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((type = 'direct') = (direct_key IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE conversation_members (
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        role text NOT NULL DEFAULT 'member' CHECK (role IN ('creator', 'admin', 'member')),
        joined_at timestamptz NOT NULL DEFAULT now(),
        joined_seq bigint NOT NULL DEFAULT 0,
        left_at timestamptz,
        left_seq bigint,
        delivered_seq bigint NOT NULL DEFAULT 0,
        delivered_at timestamptz,
        read_seq bigint NOT NULL DEFAULT 0,
        read_at timestamptz,
        PRIMARY KEY (conversation_id, user_id)
      )`);
    await q.query(`CREATE INDEX conversation_members_user_idx ON conversation_members (user_id)`);
    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        sender_id uuid NOT NULL,
        sender_device_id uuid NOT NULL,
        client_msg_id text NOT NULL,
        type text NOT NULL CHECK (type IN ('text', 'image', 'video', 'audio', 'document', 'system')),
        body text NOT NULL,
        media_id uuid,
        reply_to_id uuid,
        withheld_from uuid,
        created_at timestamptz NOT NULL,
        edited_at timestamptz,
        deleted_at timestamptz,
        UNIQUE (conversation_id, seq),
        UNIQUE (sender_id, client_msg_id)
      )`);
    await q.query(`CREATE INDEX messages_created_at_idx ON messages (created_at)`);
    await q.query(`
      CREATE TABLE device_positions (
        device_id uuid NOT NULL,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        delivered_seq bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, conversation_id)
      )`);
    await q.query(`
      CREATE TABLE receipt_marks (
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        status smallint NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (conversation_id, user_id, status, seq)
      )`);
    await q.query(`CREATE INDEX receipt_marks_at_idx ON receipt_marks (at)`);
    await q.query(`
      CREATE TABLE chat_user_settings (
        user_id uuid PRIMARY KEY,
        read_receipts boolean NOT NULL DEFAULT true
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE chat_user_settings, receipt_marks, device_positions, messages, conversation_members, conversations`,
    );
  }
}
