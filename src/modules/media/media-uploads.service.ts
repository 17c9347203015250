import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError, ErrorCode } from '../../common/errors';
import { SNIFF_BYTES } from './content-sniffer';
import { chunkKey, cleanFileName, MEDIA_KINDS, type MediaKind } from './domain/media';
import { kindsOfDeclaredType, kindsOfFileName, type Declared } from './domain/media-types';
import { parseUploadMetadata } from './domain/tus';
import { classify, ingest } from './media-ingest';
import { MediaService } from './media.service';
import { MediaRepository, type UploadChunk, type UploadRecord } from './ports/media.repository';
import { MediaStorage } from './ports/media.storage';

export interface AppendOutcome {
  offset: number;
  /** Set once the upload is complete. */
  mediaId: string | null;
}

/**
 * Resumable uploads (tus 1.0.0 core, creation, expiration, termination).
 *
 * Each PATCH streams into a temporary file; whatever arrived, even when the client's
 * connection drops halfway, is stored as one chunk object in MediaStorage and the
 * upload's offset moves past it in one compare-and-set statement. The client asks
 * (HEAD) where to resume and sends the rest. Chunks live in the shared store, so with S3
 * any instance can take the next PATCH. When the last byte is in, the chunks are read
 * back in order through the same checks as a one-shot upload and become one media,
 * whose id is the upload's id.
 */
@Injectable()
export class MediaUploadsService {
  private readonly logger = new Logger(MediaUploadsService.name);

  constructor(
    private readonly repo: MediaRepository,
    private readonly storage: MediaStorage,
    private readonly media: MediaService,
    private readonly config: AppConfig,
  ) {}

  /** Largest length any upload may declare. */
  get maxSize(): number {
    return Math.max(...MEDIA_KINDS.map((k) => this.config.media.maxBytes[k]));
  }

  async create(
    userId: string,
    length: number,
    metadataHeader: string | undefined,
  ): Promise<UploadRecord> {
    const metadata = parseUploadMetadata(metadataHeader);
    if (!metadata) throw AppError.validation('Upload-Metadata is malformed');
    if (length <= 0) throw AppError.validation('Upload-Length must be at least 1');
    const declared: Declared = {
      mimeType: metadata.get('filetype') || undefined,
      fileName: cleanFileName(metadata.get('filename')),
    };
    // Refuse early what is too big for every kind the declaration allows; the bytes
    // decide the kind later and are checked again.
    const kinds = this.declaredKinds(declared);
    const limit = Math.max(...kinds.map((k) => this.config.media.maxBytes[k]));
    if (length > limit) {
      throw AppError.tooLarge(`Upload-Length ${length} is over the limit of ${limit} bytes`);
    }
    // The declared length is held against the quota until the upload completes.
    const remaining = await this.media.quotaRemaining(userId);
    if (remaining !== null && length > remaining) {
      throw AppError.rateLimited(
        await this.media.quotaRetryAfterMs(userId, length),
        this.media.quotaMessage(),
      );
    }
    const now = new Date();
    const upload: UploadRecord = {
      id: uuidv7(),
      uploaderId: userId,
      length,
      offset: 0,
      fileName: declared.fileName ?? null,
      fileType: declared.mimeType ?? null,
      mediaId: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.media.uploadExpirySec * 1000),
    };
    await this.repo.createUpload(upload);
    return upload;
  }

  private declaredKinds(declared: Declared): readonly MediaKind[] {
    const byType = kindsOfDeclaredType(declared.mimeType);
    const byName = kindsOfFileName(declared.fileName);
    const both = byType && byName ? byType.filter((k) => byName.includes(k)) : (byType ?? byName);
    return both && both.length ? both : MEDIA_KINDS;
  }

  /** The caller's upload; others' uploads and expired ones do not exist for them. */
  async find(userId: string, id: string): Promise<UploadRecord> {
    const upload = await this.repo.findUpload(id);
    if (!upload || upload.uploaderId !== userId) throw AppError.notFound('Upload');
    if (!upload.mediaId && upload.expiresAt.getTime() <= Date.now()) {
      throw AppError.notFound('Upload');
    }
    return upload;
  }

  /**
   * Appends the request body at `offset`. Resolves with the new offset; rejects with the
   * body's own error when the client went away (what arrived is kept).
   */
  async append(userId: string, id: string, offset: number, body: Readable): Promise<AppendOutcome> {
    const upload = await this.find(userId, id);
    if (upload.mediaId) {
      if (offset === upload.length) return { offset, mediaId: upload.mediaId };
      throw new AppError(ErrorCode.CONFLICT, 'The upload is complete');
    }
    if (offset !== upload.offset) {
      throw new AppError(
        ErrorCode.CONFLICT,
        `Upload-Offset ${offset} does not match the upload's offset ${upload.offset}`,
      );
    }
    const room = upload.length - offset;
    const temp = this.media.tempPath('chunk');
    let received = 0;
    let overflow = false;
    let broken: unknown;
    const file = await open(temp, 'wx', 0o600);
    try {
      try {
        for await (const piece of body) {
          const chunk = piece as Buffer;
          if (received + chunk.length > room) {
            overflow = true;
            break;
          }
          await file.write(chunk);
          received += chunk.length;
        }
      } catch (error) {
        // The connection dropped: keep what arrived, so the client can resume after it.
        broken = error;
      } finally {
        await file.close();
      }
      if (overflow) throw AppError.validation('The body goes past Upload-Length');
      if (received > 0) await this.commitChunk(upload, offset, temp, received);
    } finally {
      await rm(temp, { force: true });
    }
    if (broken) throw broken instanceof Error ? broken : new Error('upload body failed');
    const newOffset = offset + received;
    if (newOffset < upload.length) return { offset: newOffset, mediaId: null };
    return { offset: newOffset, mediaId: await this.finish(upload) };
  }

  private async commitChunk(
    upload: UploadRecord,
    offset: number,
    temp: string,
    length: number,
  ): Promise<void> {
    const key = chunkKey(upload.id, offset, randomBytes(6).toString('hex'));
    await this.storage.put(key, { path: temp, size: length }, 'application/octet-stream');
    if (
      !(await this.repo.appendChunk(upload.id, { startOffset: offset, length, storageKey: key }))
    ) {
      // Another request moved the upload on meanwhile (a retry racing a dead request).
      await this.storage.delete(key);
      throw new AppError(ErrorCode.CONFLICT, 'The upload moved on meanwhile; ask for its offset');
    }
    // The first bytes tell the type: refuse an unacceptable file now, not after the rest.
    if (offset === 0 && (length >= SNIFF_BYTES || length === upload.length)) {
      await this.precheck(upload, temp, Math.min(length, SNIFF_BYTES));
    }
  }

  private async precheck(upload: UploadRecord, path: string, headBytes: number): Promise<void> {
    const head = Buffer.alloc(headBytes);
    const file = await open(path, 'r');
    try {
      await file.read(head, 0, headBytes, 0);
    } finally {
      await file.close();
    }
    try {
      const { kind } = await classify(head, this.declaredOf(upload));
      const max = this.config.media.maxBytes[kind];
      if (upload.length > max) {
        throw AppError.tooLarge(`${kind} files are limited to ${max} bytes`);
      }
    } catch (error) {
      await this.discard(upload.id);
      throw error;
    }
  }

  private declaredOf(upload: UploadRecord): Declared {
    return { mimeType: upload.fileType ?? undefined, fileName: upload.fileName };
  }

  /**
   * Reassembles the chunks through the one-shot upload checks and stores the media. A
   * file the checks refuse is deleted with its upload; any other failure (the store is
   * unreachable) keeps it, and an empty PATCH at the final offset tries again.
   */
  private async finish(upload: UploadRecord): Promise<string> {
    const chunks = await this.repo.chunksOf(upload.id);
    let expected = 0;
    for (const c of chunks) {
      if (c.startOffset !== expected)
        throw new Error(`upload ${upload.id} has a gap at ${expected}`);
      expected += c.length;
    }
    if (expected !== upload.length) throw new Error(`upload ${upload.id} is short of its length`);

    const storage = this.storage;
    async function* bytes(): AsyncGenerator<Buffer> {
      for (const chunk of chunks) {
        for await (const piece of await storage.read(chunk.storageKey)) yield piece as Buffer;
      }
    }
    try {
      const limits = {
        maxBytes: this.config.media.maxBytes,
        // The quota was charged when the upload was created.
        quotaRemaining: null,
        quotaRetryAfterMs: async () => 1,
      };
      const file = await ingest(bytes(), this.declaredOf(upload), limits, this.media.tempDir);
      const media = await this.media.store(upload.uploaderId, file, {
        fileName: upload.fileName,
        mediaId: upload.id,
        checkQuota: false,
      });
      await this.repo.completeUpload(upload.id, media.id);
      await this.deleteChunkObjects(chunks);
      return media.id;
    } catch (error) {
      if (error instanceof AppError) await this.discard(upload.id);
      throw error;
    }
  }

  /** Deletes an upload and its chunks (termination, refusal, expiry). */
  async discard(id: string): Promise<void> {
    await this.deleteChunkObjects(await this.repo.deleteUpload(id));
  }

  async terminate(userId: string, id: string): Promise<void> {
    await this.find(userId, id);
    await this.discard(id);
  }

  private async deleteChunkObjects(chunks: UploadChunk[]): Promise<void> {
    for (const chunk of chunks) {
      await this.storage.delete(chunk.storageKey).catch((error: unknown) => {
        this.logger.warn({ err: error, key: chunk.storageKey }, 'could not delete upload chunk');
      });
    }
  }

  /** Deletes expired uploads (unfinished ones and the records of finished ones). */
  async purgeExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.repo.expiredUploads(new Date(), 100);
      for (const id of ids) await this.discard(id);
      total += ids.length;
      if (ids.length < 100) return total;
    }
  }
}
