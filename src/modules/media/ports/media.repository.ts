import type { MediaRecord, MediaShare, ProcessingResult } from '../domain/media';

/** A resumable upload in progress (tus). */
export interface UploadRecord {
  id: string;
  uploaderId: string;
  length: number;
  offset: number;
  fileName: string | null;
  fileType: string | null;
  /** Set once the upload is complete and became this media. */
  mediaId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface UploadChunk {
  startOffset: number;
  length: number;
  storageKey: string;
}

/** One entry counted against the upload quota. */
export interface QuotaUsage {
  at: Date;
  bytes: number;
}

/** Media records, where they were shared, view-once opens and resumable uploads. */
export abstract class MediaRepository {
  abstract insert(media: MediaRecord): Promise<void>;
  abstract findById(id: string): Promise<MediaRecord | null>;
  /** A processed record of the same bytes, whose thumbnail can be reused. */
  abstract findProcessedBySha256(sha256: string): Promise<MediaRecord | null>;
  /** Media still processing that were uploaded before `before`, at most `limit`. */
  abstract stuckProcessing(before: Date, limit: number): Promise<string[]>;
  /** Stores the job's results; false when the record was processed already. */
  abstract markProcessed(id: string, result: ProcessingResult): Promise<boolean>;

  /** Records a share; recording the same (media, message) twice is a no-op. */
  abstract addShare(share: MediaShare): Promise<void>;
  /** Drops the share of a message that was not stored (a duplicate or refused send). */
  abstract removeShare(mediaId: string, messageId: string): Promise<void>;
  abstract sharesOf(mediaId: string): Promise<MediaShare[]>;
  /** Drops the shares of these messages (they were deleted); returns the media they named. */
  abstract removeSharesOf(messageIds: readonly string[]): Promise<string[]>;
  /**
   * Deletes those of the media that no message shares any more, with their view records;
   * returns the deleted records (their stored objects may go next).
   */
  abstract deleteUnshared(mediaIds: readonly string[]): Promise<MediaRecord[]>;
  /** Of these storage keys, those another media record still uses (as original or thumbnail). */
  abstract keysInUse(keys: readonly string[]): Promise<Set<string>>;
  /** Records that the user opened the media; false when they had opened it before. */
  abstract recordView(mediaId: string, userId: string): Promise<boolean>;
  abstract hasViewed(mediaId: string, userId: string): Promise<boolean>;

  /**
   * The user's uploads since the given time (stored media and unfinished resumable
   * uploads, by declared length), oldest first.
   */
  abstract usageSince(userId: string, since: Date): Promise<QuotaUsage[]>;

  abstract createUpload(upload: UploadRecord): Promise<void>;
  abstract findUpload(id: string): Promise<UploadRecord | null>;
  /**
   * Appends a stored chunk at `startOffset` and moves the offset past it, only if the
   * offset is still `startOffset` and the upload is not complete (compare-and-set);
   * false otherwise.
   */
  abstract appendChunk(uploadId: string, chunk: UploadChunk): Promise<boolean>;
  abstract chunksOf(uploadId: string): Promise<UploadChunk[]>;
  /** Marks the upload complete and drops its chunk rows. */
  abstract completeUpload(uploadId: string, mediaId: string): Promise<void>;
  /** Deletes the upload and its chunk rows; returns the chunks (their objects go next). */
  abstract deleteUpload(uploadId: string): Promise<UploadChunk[]>;
  /** Uploads whose expiry passed, at most `limit`. */
  abstract expiredUploads(now: Date, limit: number): Promise<string[]>;
}
