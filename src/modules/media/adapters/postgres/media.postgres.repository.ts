import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type {
  MediaKind,
  MediaRecord,
  MediaShare,
  MediaStatus,
  NoThumbnailReason,
  ProcessingResult,
} from '../../domain/media';
import {
  MediaRepository,
  type QuotaUsage,
  type UploadChunk,
  type UploadRecord,
} from '../../ports/media.repository';

interface MediaRow {
  id: string;
  uploader_id: string;
  kind: MediaKind;
  mime_type: string;
  size: number;
  sha256: string;
  storage_key: string;
  file_name: string | null;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  status: MediaStatus;
  thumbnail_key: string | null;
  thumbnail_sha256: string | null;
  thumbnail_size: number | null;
  thumbnail_mime: string | null;
  no_thumbnail_reason: NoThumbnailReason | null;
  created_at: Date;
  processed_at: Date | null;
}

interface UploadRow {
  id: string;
  uploader_id: string;
  length: number;
  upload_offset: number;
  file_name: string | null;
  file_type: string | null;
  media_id: string | null;
  created_at: Date;
  expires_at: Date;
}

interface ChunkRow {
  start_offset: number;
  length: number;
  storage_key: string;
}

function toMedia(r: MediaRow): MediaRecord {
  return {
    id: r.id,
    uploaderId: r.uploader_id,
    kind: r.kind,
    mimeType: r.mime_type,
    size: r.size,
    sha256: r.sha256,
    storageKey: r.storage_key,
    fileName: r.file_name,
    width: r.width,
    height: r.height,
    durationMs: r.duration_ms,
    status: r.status,
    thumbnail:
      r.thumbnail_key && r.thumbnail_sha256 && r.thumbnail_size !== null && r.thumbnail_mime
        ? {
            key: r.thumbnail_key,
            sha256: r.thumbnail_sha256,
            size: r.thumbnail_size,
            mimeType: r.thumbnail_mime,
          }
        : null,
    noThumbnailReason: r.no_thumbnail_reason,
    createdAt: r.created_at,
    processedAt: r.processed_at,
  };
}

function toUpload(r: UploadRow): UploadRecord {
  return {
    id: r.id,
    uploaderId: r.uploader_id,
    length: r.length,
    offset: r.upload_offset,
    fileName: r.file_name,
    fileType: r.file_type,
    mediaId: r.media_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

const toChunk = (r: ChunkRow): UploadChunk => ({
  startOffset: r.start_offset,
  length: r.length,
  storageKey: r.storage_key,
});

@Injectable()
export class MediaPostgresRepository extends MediaRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async insert(m: MediaRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO media (id, uploader_id, kind, mime_type, size, sha256, storage_key, file_name,
                          width, height, duration_ms, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (id) DO NOTHING`,
      [
        m.id,
        m.uploaderId,
        m.kind,
        m.mimeType,
        m.size,
        m.sha256,
        m.storageKey,
        m.fileName,
        m.width,
        m.height,
        m.durationMs,
        m.status,
        m.createdAt,
      ],
    );
  }

  async findById(id: string): Promise<MediaRecord | null> {
    const [row] = await this.db.query<MediaRow>(`SELECT * FROM media WHERE id = $1`, [id]);
    return row ? toMedia(row) : null;
  }

  async findProcessedBySha256(sha256: string): Promise<MediaRecord | null> {
    const [row] = await this.db.query<MediaRow>(
      `SELECT * FROM media WHERE sha256 = $1 AND status = 'ready' AND thumbnail_key IS NOT NULL LIMIT 1`,
      [sha256],
    );
    return row ? toMedia(row) : null;
  }

  async stuckProcessing(before: Date, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM media WHERE status = 'processing' AND created_at < $1
        ORDER BY created_at LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => r.id);
  }

  async markProcessed(id: string, r: ProcessingResult): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE media SET status = 'ready', processed_at = now(),
              width = COALESCE($2, width), height = COALESCE($3, height),
              duration_ms = COALESCE($4, duration_ms),
              thumbnail_key = $5, thumbnail_sha256 = $6, thumbnail_size = $7, thumbnail_mime = $8,
              no_thumbnail_reason = $9
        WHERE id = $1 AND status = 'processing'
        RETURNING id`,
      [
        id,
        r.width,
        r.height,
        r.durationMs,
        r.thumbnail?.key ?? null,
        r.thumbnail?.sha256 ?? null,
        r.thumbnail?.size ?? null,
        r.thumbnail?.mimeType ?? null,
        r.noThumbnailReason,
      ],
    );
    return rows.length > 0;
  }

  async addShare(s: MediaShare): Promise<void> {
    await this.db.query(
      `INSERT INTO media_shares (media_id, message_id, conversation_id, sender_id, view_once)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [s.mediaId, s.messageId, s.conversationId, s.senderId, s.viewOnce],
    );
  }

  async removeShare(mediaId: string, messageId: string): Promise<void> {
    await this.db.query(`DELETE FROM media_shares WHERE media_id = $1 AND message_id = $2`, [
      mediaId,
      messageId,
    ]);
  }

  async sharesOf(mediaId: string): Promise<MediaShare[]> {
    const rows = await this.db.query<{
      message_id: string;
      conversation_id: string;
      sender_id: string;
      view_once: boolean;
    }>(
      `SELECT message_id, conversation_id, sender_id, view_once FROM media_shares
        WHERE media_id = $1 ORDER BY created_at`,
      [mediaId],
    );
    return rows.map((r) => ({
      mediaId,
      messageId: r.message_id,
      conversationId: r.conversation_id,
      senderId: r.sender_id,
      viewOnce: r.view_once,
    }));
  }

  async removeSharesOf(messageIds: readonly string[]): Promise<string[]> {
    if (!messageIds.length) return [];
    const rows = await this.db.query<{ media_id: string }>(
      `DELETE FROM media_shares WHERE message_id = ANY($1::uuid[]) RETURNING media_id`,
      [[...messageIds]],
    );
    return [...new Set(rows.map((r) => r.media_id))];
  }

  async deleteUnshared(mediaIds: readonly string[]): Promise<MediaRecord[]> {
    if (!mediaIds.length) return [];
    const rows = await this.db.query<MediaRow>(
      `DELETE FROM media m WHERE m.id = ANY($1::uuid[])
          AND NOT EXISTS (SELECT 1 FROM media_shares s WHERE s.media_id = m.id)
        RETURNING m.*`,
      [[...mediaIds]],
    );
    return rows.map(toMedia);
  }

  async keysInUse(keys: readonly string[]): Promise<Set<string>> {
    if (!keys.length) return new Set();
    const rows = await this.db.query<{ key: string }>(
      `SELECT storage_key AS key FROM media WHERE storage_key = ANY($1::text[])
       UNION SELECT thumbnail_key FROM media WHERE thumbnail_key = ANY($1::text[])`,
      [[...keys]],
    );
    return new Set(rows.map((r) => r.key));
  }

  async recordView(mediaId: string, userId: string): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO media_views (media_id, user_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING media_id`,
      [mediaId, userId],
    );
    return rows.length > 0;
  }

  async hasViewed(mediaId: string, userId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM media_views WHERE media_id = $1 AND user_id = $2`,
      [mediaId, userId],
    );
    return rows.length > 0;
  }

  async usageSince(userId: string, since: Date): Promise<QuotaUsage[]> {
    const rows = await this.db.query<{ at: Date; bytes: number }>(
      `SELECT created_at AS at, size AS bytes FROM media
        WHERE uploader_id = $1 AND created_at > $2
       UNION ALL
       SELECT created_at AS at, length AS bytes FROM media_uploads
        WHERE uploader_id = $1 AND created_at > $2 AND media_id IS NULL
       ORDER BY at`,
      [userId, since],
    );
    return rows.map((r) => ({ at: r.at, bytes: r.bytes }));
  }

  async createUpload(u: UploadRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO media_uploads (id, uploader_id, length, upload_offset, file_name, file_type,
                                  created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [u.id, u.uploaderId, u.length, u.offset, u.fileName, u.fileType, u.createdAt, u.expiresAt],
    );
  }

  async findUpload(id: string): Promise<UploadRecord | null> {
    const [row] = await this.db.query<UploadRow>(`SELECT * FROM media_uploads WHERE id = $1`, [id]);
    return row ? toUpload(row) : null;
  }

  async appendChunk(uploadId: string, c: UploadChunk): Promise<boolean> {
    // One statement: the offset moves and the chunk is recorded together, or neither.
    const rows = await this.db.query(
      `WITH moved AS (
         UPDATE media_uploads SET upload_offset = $2 + $3
          WHERE id = $1 AND upload_offset = $2 AND media_id IS NULL AND $2 + $3 <= length
          RETURNING id)
       INSERT INTO media_upload_chunks (upload_id, start_offset, length, storage_key)
       SELECT id, $2, $3, $4 FROM moved
       RETURNING upload_id`,
      [uploadId, c.startOffset, c.length, c.storageKey],
    );
    return rows.length > 0;
  }

  async chunksOf(uploadId: string): Promise<UploadChunk[]> {
    const rows = await this.db.query<ChunkRow>(
      `SELECT start_offset, length, storage_key FROM media_upload_chunks
        WHERE upload_id = $1 ORDER BY start_offset`,
      [uploadId],
    );
    return rows.map(toChunk);
  }

  async completeUpload(uploadId: string, mediaId: string): Promise<void> {
    await this.db.query(
      `WITH done AS (UPDATE media_uploads SET media_id = $2, upload_offset = length WHERE id = $1 RETURNING id)
       DELETE FROM media_upload_chunks WHERE upload_id IN (SELECT id FROM done)`,
      [uploadId, mediaId],
    );
  }

  async deleteUpload(uploadId: string): Promise<UploadChunk[]> {
    const rows = await this.db.query<ChunkRow>(
      `WITH upload AS (DELETE FROM media_uploads WHERE id = $1 RETURNING id)
       DELETE FROM media_upload_chunks WHERE upload_id = $1
       RETURNING start_offset, length, storage_key`,
      [uploadId],
    );
    return rows.map(toChunk);
  }

  async expiredUploads(now: Date, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM media_uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.id);
  }
}
