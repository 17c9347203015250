import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media: one row per upload (stored objects are content-addressed, so several rows may
 * share one object), where each was shared (for access checks and media:ready), who opened
 * view-once media, resumable uploads in progress with their stored chunks, and the
 * view-once flag of messages.
 */
export class Media1795622890751 implements MigrationInterface {
  name = 'Media1795622890751';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE media (
        id uuid PRIMARY KEY,
        uploader_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'document')),
        mime_type text NOT NULL,
        size bigint NOT NULL,
        sha256 text NOT NULL,
        storage_key text NOT NULL,
        file_name text,
        width int,
        height int,
        duration_ms int,
        status text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready')),
        thumbnail_key text,
        thumbnail_sha256 text,
        thumbnail_size int,
        thumbnail_mime text,
        no_thumbnail_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz
      )`);
    // The upload quota sums a user's uploads of the last hour.
    await q.query(`CREATE INDEX media_uploader_created_idx ON media (uploader_id, created_at)`);
    // The maintenance job finds media whose processing never finished.
    await q.query(
      `CREATE INDEX media_processing_idx ON media (created_at) WHERE status = 'processing'`,
    );
    // Processing reuses the thumbnail of an earlier upload of the same bytes.
    await q.query(`CREATE INDEX media_sha256_ready_idx ON media (sha256) WHERE status = 'ready'`);
    await q.query(`
      CREATE TABLE media_shares (
        media_id uuid NOT NULL REFERENCES media(id) ON DELETE CASCADE,
        message_id uuid NOT NULL,
        conversation_id uuid NOT NULL,
        sender_id uuid NOT NULL,
        view_once boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (media_id, message_id)
      )`);
    await q.query(`
      CREATE TABLE media_views (
        media_id uuid NOT NULL REFERENCES media(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        viewed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (media_id, user_id)
      )`);
    await q.query(`
      CREATE TABLE media_uploads (
        id uuid PRIMARY KEY,
        uploader_id uuid NOT NULL,
        length bigint NOT NULL CHECK (length > 0),
        upload_offset bigint NOT NULL DEFAULT 0,
        file_name text,
        file_type text,
        media_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CHECK (upload_offset >= 0 AND upload_offset <= length)
      )`);
    await q.query(
      `CREATE INDEX media_uploads_uploader_idx ON media_uploads (uploader_id, created_at)`,
    );
    await q.query(`CREATE INDEX media_uploads_expires_idx ON media_uploads (expires_at)`);
    await q.query(`
      CREATE TABLE media_upload_chunks (
        upload_id uuid NOT NULL REFERENCES media_uploads(id) ON DELETE CASCADE,
        start_offset bigint NOT NULL,
        length bigint NOT NULL CHECK (length > 0),
        storage_key text NOT NULL,
        PRIMARY KEY (upload_id, start_offset)
      )`);
    await q.query(`ALTER TABLE messages ADD COLUMN view_once boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP COLUMN view_once`);
    await q.query(
      `DROP TABLE media_upload_chunks, media_uploads, media_views, media_shares, media`,
    );
  }
}
