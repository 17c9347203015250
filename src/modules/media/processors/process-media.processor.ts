import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../../../common/config/app-config';
import { JobQueue } from '../../../common/queue/job-queue';
import { JobName } from '../../../common/queue/queue-names';
import {
  thumbnailKey,
  type MediaRecord,
  type ProcessingResult,
  type StoredThumbnail,
} from '../domain/media';
import { FfmpegTools } from '../ffmpeg-tools';
import { sha256Of } from '../file-hash';
import { makeThumbnail } from '../image-tools';
import { MediaService } from '../media.service';
import { MediaRepository } from '../ports/media.repository';
import { MediaStorage } from '../ports/media.storage';

const THUMBNAIL_TYPE = 'image/jpeg';

/**
 * The `process-media` job: thumbnails for images, poster frames and durations for video
 * (where ffmpeg is available), durations for audio; then media:ready to everyone who can
 * see the media.
 *
 * Safe to run twice, or concurrently: the thumbnail key is derived from the media's own
 * hash and written only if absent, results are stored only while the record is still
 * `processing` (compare-and-set), and only the run that stored them announces them.
 * Problems with the file itself (a video ffmpeg cannot read) are recorded as "no
 * thumbnail" rather than thrown, so they are not retried; only infrastructure failures
 * (store, database) throw and are retried by the queue.
 */
@Injectable()
export class ProcessMediaProcessor implements OnModuleInit {
  private readonly logger = new Logger(ProcessMediaProcessor.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly repo: MediaRepository,
    private readonly storage: MediaStorage,
    private readonly media: MediaService,
    private readonly ffmpeg: FfmpegTools,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.process(JobName.processMedia, ({ mediaId }) => this.run(mediaId));
  }

  async run(mediaId: string): Promise<void> {
    const media = await this.repo.findById(mediaId);
    // The record is committed before its job is queued, so a missing one is not visible
    // here yet (or this worker serves another database): retrying is the safe answer.
    if (!media) throw new Error(`media ${mediaId} not found`);
    if (media.status === 'ready') return;
    const result = await this.process(media);
    if (await this.repo.markProcessed(media.id, result)) {
      await this.media.announceReady(media.id);
    }
  }

  async process(media: MediaRecord): Promise<ProcessingResult> {
    const base: ProcessingResult = {
      width: media.width,
      height: media.height,
      durationMs: media.durationMs,
      thumbnail: null,
      noThumbnailReason: null,
    };
    switch (media.kind) {
      case 'image':
        return this.image(media, base);
      case 'video':
        return this.video(media, base);
      case 'audio':
        return this.audio(media, base);
      default:
        return { ...base, noThumbnailReason: 'not-applicable' };
    }
  }

  private async image(media: MediaRecord, base: ProcessingResult): Promise<ProcessingResult> {
    const reused = await this.reusableThumbnail(media);
    if (reused) return { ...base, thumbnail: reused };
    const original = await buffer(await this.storage.read(media.storageKey));
    try {
      const thumb = await makeThumbnail(
        original,
        this.config.media.thumbnailMaxPx,
        this.config.media.maxImagePixels,
      );
      return { ...base, thumbnail: await this.storeThumbnail(media, thumb.data) };
    } catch (error) {
      if (isStoreError(error)) throw error;
      this.logger.warn({ err: error, mediaId: media.id }, 'image thumbnail failed');
      return { ...base, noThumbnailReason: 'failed' };
    }
  }

  private async video(media: MediaRecord, base: ProcessingResult): Promise<ProcessingResult> {
    if (!(await this.ffmpeg.available())) {
      return { ...base, noThumbnailReason: 'ffmpeg-unavailable' };
    }
    return this.withLocalCopy(media, async (path) => {
      const probe = await this.ffmpeg.probe(path, media.mimeType);
      const result: ProcessingResult = {
        ...base,
        width: probe?.width ?? base.width,
        height: probe?.height ?? base.height,
        durationMs: probe?.durationMs ?? base.durationMs,
      };
      const reused = await this.reusableThumbnail(media);
      if (reused) return { ...result, thumbnail: reused };
      // A second in, past fade-ins and black first frames; the first frame of short clips.
      const at = (result.durationMs ?? 0) > 2000 ? 1000 : 0;
      const frame = await this.ffmpeg.posterFrame(path, media.mimeType, at);
      if (!frame) return { ...result, noThumbnailReason: 'failed' };
      try {
        const thumb = await makeThumbnail(
          frame,
          this.config.media.thumbnailMaxPx,
          this.config.media.maxImagePixels,
        );
        return { ...result, thumbnail: await this.storeThumbnail(media, thumb.data) };
      } catch (error) {
        if (isStoreError(error)) throw error;
        this.logger.warn({ err: error, mediaId: media.id }, 'poster frame thumbnail failed');
        return { ...result, noThumbnailReason: 'failed' };
      }
    });
  }

  private async audio(media: MediaRecord, base: ProcessingResult): Promise<ProcessingResult> {
    const result: ProcessingResult = { ...base, noThumbnailReason: 'not-applicable' };
    if (!(await this.ffmpeg.available())) return result;
    return this.withLocalCopy(media, async (path) => {
      const probe = await this.ffmpeg.probe(path, media.mimeType);
      return { ...result, durationMs: probe?.durationMs ?? null };
    });
  }

  /** ffmpeg reads files: the stored object is copied to a temporary file for the run. */
  private async withLocalCopy<T>(media: MediaRecord, fn: (path: string) => Promise<T>): Promise<T> {
    const path = this.media.tempPath('process');
    try {
      await pipeline(await this.storage.read(media.storageKey), createWriteStream(path));
      return await fn(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  /** An earlier upload of the same bytes was processed: its thumbnail is this one's too. */
  private async reusableThumbnail(media: MediaRecord): Promise<StoredThumbnail | null> {
    const sibling = await this.repo.findProcessedBySha256(media.sha256);
    if (!sibling?.thumbnail) return null;
    return (await this.storage.stat(sibling.thumbnail.key)) ? sibling.thumbnail : null;
  }

  private async storeThumbnail(media: MediaRecord, data: Buffer): Promise<StoredThumbnail> {
    const key = thumbnailKey(media.sha256);
    try {
      await this.storage.put(key, data, THUMBNAIL_TYPE);
    } catch (error) {
      throw new StoreError(error);
    }
    // An earlier run may have written the key already (put keeps what is there), and two
    // encodings need not be byte-identical: describe the stored bytes. Thumbnails are small.
    const stored = await buffer(await this.storage.read(key));
    return { key, sha256: sha256Of(stored), size: stored.length, mimeType: THUMBNAIL_TYPE };
  }
}

/** A failure of the store, which must be retried, as opposed to a bad file. */
class StoreError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'StoreError';
  }
}

const isStoreError = (error: unknown): boolean => error instanceof StoreError;
