import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError, ErrorCode } from '../../common/errors';
import { JobQueue } from '../../common/queue/job-queue';
import { JobName } from '../../common/queue/queue-names';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { MediaReadyEvent } from '../../common/realtime/socket-events';
import {
  blobKey,
  cleanFileName,
  thumbnailUrl,
  toMediaView,
  type MediaKind,
  type MediaRecord,
  type MediaView,
} from './domain/media';
import { hashFile } from './file-hash';
import { sanitizeImage } from './image-tools';
import type { IngestedFile, IngestLimits } from './media-ingest';
import { MediaAudienceRegistry, type MediaAudience } from './ports/media-audience';
import { MediaRepository } from './ports/media.repository';
import { MediaStorage } from './ports/media.storage';
import { QueueFullError, Semaphore } from '../../common/concurrency/semaphore';

/** What a refused image upload is told to wait: a re-encode takes well under a second. */
const IMAGE_QUEUE_RETRY_MS = 2_000;

const HOUR_MS = 3_600_000;
const STALE_TEMP_MS = 24 * HOUR_MS;

/**
 * How a user may use a media: `full` (the uploader, or a member who can see a normal
 * message carrying it), `view-once` (visible to them only through view-once messages),
 * or `none`.
 */
export type MediaAccess = 'full' | 'view-once' | 'none';

export interface AttachInput {
  mediaId: string;
  type: MediaKind;
  viewOnce: boolean;
  messageId: string;
  conversationId: string;
}

/** The id of the process-media job of a media: one pending job per media. */
export const processJobId = (mediaId: string): string => `process-media-${mediaId}`;

/**
 * Uploads become media records here; downloads and message sends are authorized here.
 * The bytes live in MediaStorage under content-addressed keys; the background job
 * (ProcessMediaProcessor) adds thumbnails and durations afterwards.
 */
@Injectable()
export class MediaService implements OnModuleInit {
  private readonly logger = new Logger(MediaService.name);
  /**
   * Re-encoding holds whole pictures in memory: a few at a time is enough, and a bounded
   * line behind them (MEDIA_IMAGE_QUEUE_MAX), so a flood of uploads is refused, not queued.
   */
  private readonly imageSlots: Semaphore;
  readonly tempDir: string;

  constructor(
    private readonly repo: MediaRepository,
    private readonly storage: MediaStorage,
    private readonly audience: MediaAudienceRegistry,
    private readonly jobs: JobQueue,
    private readonly realtime: RealtimeEmitter,
    private readonly config: AppConfig,
  ) {
    this.tempDir = join(config.dataDir, 'tmp', 'media');
    this.imageSlots = new Semaphore(2, config.media.imageQueueMax);
  }

  async onModuleInit(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true });
    await this.removeStaleTempFiles();
  }

  /** Temporary files left by a crash; files of uploads in progress are younger. */
  private async removeStaleTempFiles(): Promise<void> {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(this.tempDir)) {
      const path = join(this.tempDir, name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }

  tempPath(suffix: string): string {
    return join(this.tempDir, `${randomUUID()}.${suffix}`);
  }

  /** Called once by the chat module at startup: who may see which message. */
  registerAudience(audience: MediaAudience): void {
    this.audience.register(audience);
  }

  // --- upload quota -----------------------------------------------------------------

  /**
   * The limits an upload of this user runs under. Refuses at once (RATE_LIMITED) when the
   * hourly quota is used up. The quota is counted in bytes from the media table (and the
   * declared lengths of unfinished resumable uploads), which every instance shares.
   */
  async limitsFor(userId: string): Promise<IngestLimits> {
    const remaining = await this.quotaRemaining(userId);
    if (remaining !== null && remaining <= 0) {
      throw AppError.rateLimited(await this.quotaRetryAfterMs(userId, 1), this.quotaMessage());
    }
    return {
      maxBytes: this.config.media.maxBytes,
      quotaRemaining: remaining,
      quotaRetryAfterMs: (bytes) => this.quotaRetryAfterMs(userId, bytes),
    };
  }

  /** Bytes left in the user's quota for the current hour; null without a quota. */
  async quotaRemaining(userId: string): Promise<number | null> {
    const quota = this.config.media.uploadQuotaBytesPerHour;
    if (quota <= 0) return null;
    const usage = await this.repo.usageSince(userId, new Date(Date.now() - HOUR_MS));
    return quota - usage.reduce((sum, u) => sum + u.bytes, 0);
  }

  /** How long until `bytes` more fit: when enough of the last hour's uploads age out. */
  async quotaRetryAfterMs(userId: string, bytes: number): Promise<number> {
    const quota = this.config.media.uploadQuotaBytesPerHour;
    const now = Date.now();
    if (quota <= 0) return 1;
    if (bytes > quota) return HOUR_MS;
    const usage = await this.repo.usageSince(userId, new Date(now - HOUR_MS));
    let excess = usage.reduce((sum, u) => sum + u.bytes, 0) + bytes - quota;
    for (const entry of usage) {
      if (excess <= 0) break;
      excess -= entry.bytes;
      if (excess <= 0) return Math.max(1, entry.at.getTime() + HOUR_MS - now);
    }
    return excess <= 0 ? 1 : HOUR_MS;
  }

  quotaMessage(): string {
    return `At most ${this.config.media.uploadQuotaBytesPerHour} bytes of uploads per hour`;
  }

  // --- storing uploads --------------------------------------------------------------

  /**
   * Turns a received file into a stored media: images are re-encoded without metadata
   * first, so the original (with its EXIF and GPS) is never stored or served; the bytes
   * go to the store under their SHA-256; the record is written; the processing job is
   * queued. Removes the temporary file whatever happens.
   */
  async store(
    uploaderId: string,
    file: IngestedFile,
    options: { fileName?: string | null; mediaId?: string; checkQuota: boolean },
  ): Promise<MediaRecord> {
    const temps = [file.path];
    try {
      if (options.checkQuota) {
        // Checked again now that the size is known: concurrent uploads share the quota.
        const remaining = await this.quotaRemaining(uploaderId);
        if (remaining !== null && file.size > remaining) {
          throw AppError.rateLimited(
            await this.quotaRetryAfterMs(uploaderId, file.size),
            this.quotaMessage(),
          );
        }
      }
      let path = file.path;
      let size = file.size;
      let sha256 = file.sha256;
      let width: number | null = null;
      let height: number | null = null;
      if (file.kind === 'image') {
        const output = this.tempPath('image');
        temps.push(output);
        const image = await this.imageSlots
          .run(() =>
            sanitizeImage(file.path, output, file.mimeType, this.config.media.maxImagePixels),
          )
          .catch((error: unknown) => {
            if (!(error instanceof QueueFullError)) throw error;
            throw new AppError(
              ErrorCode.SERVICE_UNAVAILABLE,
              'Too many images are being processed; try again shortly',
              { retryAfterMs: IMAGE_QUEUE_RETRY_MS },
            );
          });
        ({ sha256, size } = await hashFile(output));
        path = output;
        width = image.width;
        height = image.height;
      }
      const key = blobKey(sha256);
      await this.storage.put(key, { path, size }, file.mimeType);
      const record: MediaRecord = {
        id: options.mediaId ?? uuidv7(),
        uploaderId,
        kind: file.kind,
        mimeType: file.mimeType,
        size,
        sha256,
        storageKey: key,
        fileName: cleanFileName(options.fileName),
        width,
        height,
        durationMs: null,
        status: 'processing',
        thumbnail: null,
        noThumbnailReason: null,
        createdAt: new Date(),
        processedAt: null,
      };
      await this.repo.insert(record);
      await this.enqueueProcessing(record.id);
      return record;
    } finally {
      await Promise.all(temps.map((p) => rm(p, { force: true })));
    }
  }

  async enqueueProcessing(mediaId: string, jobId = processJobId(mediaId)): Promise<void> {
    await this.jobs.enqueue(JobName.processMedia, { mediaId }, { jobId });
  }

  /** Queues processing again for media uploaded over `olderThanMs` ago and not processed. */
  async requeueStuck(olderThanMs: number): Promise<number> {
    const ids = await this.repo.stuckProcessing(new Date(Date.now() - olderThanMs), 500);
    // A fresh job id: the original one may sit in the failed set, where BullMQ ignores a re-add.
    for (const id of ids) await this.enqueueProcessing(id, `${processJobId(id)}-${Date.now()}`);
    return ids.length;
  }

  // --- access -----------------------------------------------------------------------

  async accessOf(userId: string, media: MediaRecord): Promise<MediaAccess> {
    if (media.uploaderId === userId) return 'full';
    const shares = await this.repo.sharesOf(media.id);
    if (!shares.length) return 'none';
    const visible = await this.audience.visibleMessageIds(
      userId,
      shares.map((s) => s.messageId),
    );
    let viewOnce = false;
    for (const share of shares) {
      if (!visible.has(share.messageId)) continue;
      if (!share.viewOnce || share.senderId === userId) return 'full';
      viewOnce = true;
    }
    return viewOnce ? 'view-once' : 'none';
  }

  /** The media and the caller's access to it; NOT_FOUND or FORBIDDEN otherwise. */
  async accessible(
    userId: string,
    mediaId: string,
  ): Promise<{ media: MediaRecord; access: Exclude<MediaAccess, 'none'> }> {
    const media = await this.repo.findById(mediaId);
    if (!media) throw AppError.notFound('Media');
    const access = await this.accessOf(userId, media);
    if (access === 'none') throw AppError.forbidden('You have no access to this media');
    return { media, access };
  }

  /** The description of a media (the upload response), for anyone with access. */
  async describe(userId: string, mediaId: string): Promise<MediaView> {
    const { media, access } = await this.accessible(userId, mediaId);
    const view = toMediaView(media);
    // View-once recipients get no preview of what they have not opened.
    if (access === 'view-once') delete view.thumbnailUrl;
    return view;
  }

  /**
   * Authorizes a download of the media itself. A view-once recipient's first download
   * is recorded (atomically, so two racing requests cannot both pass) and every later
   * one is FORBIDDEN; `consume: false` (HEAD) checks without using up the view.
   */
  async openOriginal(
    userId: string,
    mediaId: string,
    consume: boolean,
  ): Promise<{ media: MediaRecord; viewOnce: boolean }> {
    const { media, access } = await this.accessible(userId, mediaId);
    if (access === 'view-once') {
      const allowed = consume
        ? await this.repo.recordView(media.id, userId)
        : !(await this.repo.hasViewed(media.id, userId));
      if (!allowed) throw AppError.forbidden('This view-once media was opened already');
      return { media, viewOnce: true };
    }
    return { media, viewOnce: false };
  }

  /** Authorizes a thumbnail download; view-once media shows none to its recipients. */
  async openThumbnail(userId: string, mediaId: string): Promise<MediaRecord> {
    const { media, access } = await this.accessible(userId, mediaId);
    if (access === 'view-once') throw AppError.forbidden('View-once media has no preview');
    if (!media.thumbnail) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        media.status === 'processing'
          ? 'The thumbnail is not ready yet'
          : `This media has no thumbnail (${media.noThumbnailReason ?? 'none'})`,
      );
    }
    return media;
  }

  // --- pictures (profile photos, group icons) ----------------------------------------

  /**
   * Makes a picture of an image the user uploaded: a record of its own over the same
   * stored bytes, so that whatever happens to the messages that shared the upload (a
   * disappearing chat's purge) the picture stays. VALIDATION_FAILED unless it is an image
   * this user uploaded. Returns the picture's media id.
   */
  async adoptPicture(userId: string, mediaId: string): Promise<string> {
    const media = await this.repo.findById(mediaId);
    if (!media || media.uploaderId !== userId || media.kind !== 'image') {
      throw AppError.validation('mediaId must be an image you uploaded');
    }
    const picture: MediaRecord = { ...media, id: uuidv7(), createdAt: new Date() };
    await this.repo.insert(picture);
    // The copy of an image still processing gets its own thumbnail from the job.
    if (picture.status === 'processing') await this.enqueueProcessing(picture.id);
    return picture.id;
  }

  /** The record of a picture, to serve; whoever calls has decided that the caller may see it. */
  async openPicture(pictureId: string): Promise<MediaRecord> {
    const media = await this.repo.findById(pictureId);
    if (!media) throw AppError.notFound('Picture');
    return media;
  }

  /** A picture was replaced or removed: its record goes, and its bytes if nothing else uses them. */
  async releasePicture(pictureId: string): Promise<void> {
    await this.removeObjectsOf(await this.repo.deleteUnshared([pictureId]));
  }

  // --- messages carrying media ------------------------------------------------------

  /**
   * These messages were deleted (for everyone, or for good when they disappeared): their
   * shares go, and each media no other message shares is deleted with its bytes (unless
   * another record, such as a later upload of the same file or a picture, uses them).
   * Nobody can download it then, the uploader included.
   */
  async releaseMessages(messageIds: readonly string[]): Promise<number> {
    const mediaIds = await this.repo.removeSharesOf(messageIds);
    const deleted = await this.repo.deleteUnshared(mediaIds);
    await this.removeObjectsOf(deleted);
    return deleted.length;
  }

  private async removeObjectsOf(deleted: readonly MediaRecord[]): Promise<void> {
    const keys = new Set<string>();
    for (const media of deleted) {
      keys.add(media.storageKey);
      if (media.thumbnail) keys.add(media.thumbnail.key);
    }
    const inUse = await this.repo.keysInUse([...keys]);
    for (const key of keys) if (!inUse.has(key)) await this.storage.delete(key);
  }

  /**
   * Checks that the sender may send this media in a message of this type, and records
   * the share before the message is stored (so no stored message ever points at media
   * its recipients cannot fetch). The caller detaches it again when the message is not
   * stored (a duplicate or refused send); until then it grants nothing, since access
   * follows the messages that exist.
   */
  async attach(senderId: string, input: AttachInput): Promise<MediaRecord> {
    const media = await this.repo.findById(input.mediaId);
    if (!media) throw AppError.notFound('Media');
    // Only full access may be passed on: view-once media cannot be forwarded.
    if ((await this.accessOf(senderId, media)) !== 'full') {
      throw AppError.forbidden('You cannot send this media');
    }
    if (media.kind !== input.type) {
      throw AppError.validation(`mediaId is a ${media.kind}, not a ${input.type}`);
    }
    await this.repo.addShare({
      mediaId: media.id,
      messageId: input.messageId,
      conversationId: input.conversationId,
      senderId,
      viewOnce: input.viewOnce,
    });
    return media;
  }

  /** Takes back the share of a message that was not stored after all. */
  async detach(mediaId: string, messageId: string): Promise<void> {
    await this.repo.removeShare(mediaId, messageId);
  }

  /**
   * After a message carrying the media went out: if the media was processed already, its
   * new audience gets media:ready now (the job told only the audience it knew of). The
   * record is read again when it was still processing at attach time, so a job finishing
   * in between is not missed: either the job saw the share, or this read sees the result.
   */
  async announceShared(
    attached: MediaRecord,
    recipients: readonly string[],
    options: { viewOnce: boolean; exceptUserIds?: readonly string[] },
  ): Promise<void> {
    const media = attached.status === 'ready' ? attached : await this.repo.findById(attached.id);
    if (!media || media.status !== 'ready') return;
    this.realtime.toUsers(recipients, 'media:ready', readyEvent(media, options.viewOnce), {
      exceptUserIds: options.exceptUserIds,
    });
  }

  /** Tells the uploader and everyone who can see a message carrying the media. */
  async announceReady(mediaId: string): Promise<void> {
    const media = await this.repo.findById(mediaId);
    if (!media || media.status !== 'ready') return;
    const shares = await this.repo.sharesOf(media.id);
    const full = new Set(
      await this.audience.audienceOf(shares.filter((s) => !s.viewOnce).map((s) => s.messageId)),
    );
    full.add(media.uploaderId);
    const onlyViewOnce = (
      await this.audience.audienceOf(shares.filter((s) => s.viewOnce).map((s) => s.messageId))
    ).filter((id) => !full.has(id));
    this.realtime.toUsers([...full], 'media:ready', readyEvent(media, false));
    if (onlyViewOnce.length) {
      this.realtime.toUsers(onlyViewOnce, 'media:ready', readyEvent(media, true));
    }
    this.logger.debug({ mediaId, users: full.size + onlyViewOnce.length }, 'media ready');
  }
}

/** The media:ready payload; view-once recipients are not pointed at a preview. */
export function readyEvent(media: MediaRecord, viewOnce: boolean): MediaReadyEvent {
  const event: MediaReadyEvent = {
    mediaId: media.id,
    thumbnailUrl: media.thumbnail && !viewOnce ? thumbnailUrl(media.id) : null,
    kind: media.kind,
  };
  if (!event.thumbnailUrl) {
    event.noThumbnailReason = viewOnce ? 'view-once' : (media.noThumbnailReason ?? 'failed');
  }
  if (media.width !== null) event.width = media.width;
  if (media.height !== null) event.height = media.height;
  if (media.durationMs !== null) event.durationMs = media.durationMs;
  return event;
}
