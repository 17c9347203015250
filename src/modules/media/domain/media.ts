import type { NoThumbnailReason } from '../../../common/realtime/socket-events';

export const MEDIA_KINDS = ['image', 'video', 'audio', 'document'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];
export type MediaStatus = 'processing' | 'ready';
export type { NoThumbnailReason };

/**
 * REST base of the download routes. Kept here rather than imported from bootstrap so the
 * module does not depend on the application that hosts it.
 */
const API_BASE = '/api/v1';

export interface StoredThumbnail {
  key: string;
  sha256: string;
  size: number;
  mimeType: string;
}

/** One upload. Several records may point at one stored object (same bytes, same key). */
export interface MediaRecord {
  id: string;
  uploaderId: string;
  kind: MediaKind;
  mimeType: string;
  size: number;
  /** Hex SHA-256 of the stored bytes (after re-encoding, for images). */
  sha256: string;
  storageKey: string;
  /** The client's file name, cleaned; offered back in Content-Disposition. */
  fileName: string | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  status: MediaStatus;
  thumbnail: StoredThumbnail | null;
  noThumbnailReason: NoThumbnailReason | null;
  createdAt: Date;
  processedAt: Date | null;
}

/** What the background job found out about the media. */
export interface ProcessingResult {
  width: number | null;
  height: number | null;
  durationMs: number | null;
  thumbnail: StoredThumbnail | null;
  noThumbnailReason: NoThumbnailReason | null;
}

/** Where a media was sent: the message that carries it. */
export interface MediaShare {
  mediaId: string;
  messageId: string;
  conversationId: string;
  senderId: string;
  viewOnce: boolean;
}

/** The client-facing description of an upload (the response of POST /media). */
export interface MediaView {
  mediaId: string;
  kind: MediaKind;
  mimeType: string;
  size: number;
  sha256: string;
  fileName?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  /** Present once a thumbnail exists. */
  thumbnailUrl?: string;
  /** processing until the background job has run; ready afterwards. */
  status: MediaStatus;
  noThumbnailReason?: NoThumbnailReason;
  createdAt: string;
}

export const mediaUrl = (id: string): string => `${API_BASE}/media/${id}`;
export const thumbnailUrl = (id: string): string => `${API_BASE}/media/${id}/thumbnail`;
export const uploadUrl = (id: string): string => `${API_BASE}/media/uploads/${id}`;

export function toMediaView(m: MediaRecord): MediaView {
  const view: MediaView = {
    mediaId: m.id,
    kind: m.kind,
    mimeType: m.mimeType,
    size: m.size,
    sha256: m.sha256,
    status: m.status,
    createdAt: m.createdAt.toISOString(),
  };
  if (m.fileName) view.fileName = m.fileName;
  if (m.width !== null) view.width = m.width;
  if (m.height !== null) view.height = m.height;
  if (m.durationMs !== null) view.durationMs = m.durationMs;
  if (m.thumbnail) view.thumbnailUrl = thumbnailUrl(m.id);
  if (m.noThumbnailReason) view.noThumbnailReason = m.noThumbnailReason;
  return view;
}

/** Keys are content-addressed and sharded by the hash's first bytes (short listings). */
export const blobKey = (sha256: string): string =>
  `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
/** Derived from the source's hash, so the job can tell it already made the thumbnail. */
export const thumbnailKey = (sourceSha256: string): string =>
  `thumbs/${sourceSha256.slice(0, 2)}/${sourceSha256.slice(2, 4)}/${sourceSha256}.jpg`;
export const chunkKey = (uploadId: string, startOffset: number, nonce: string): string =>
  `uploads/${uploadId}/${startOffset}-${nonce}`;

/**
 * A file name safe to store and echo back: no directories, no control characters, at
 * most 255 characters. Null when nothing usable is left.
 */
export function cleanFileName(name: string | undefined | null): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"]/g, '').trim();
  if (!cleaned || cleaned === '.' || cleaned === '..') return null;
  return [...cleaned].slice(0, 255).join('');
}
