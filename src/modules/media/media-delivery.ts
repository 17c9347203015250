import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../../common/config/app-config';
import { ErrorCode } from '../../common/errors';
import { parseRange } from './domain/byte-range';
import type { MediaRecord } from './domain/media';
import { MediaStorage } from './ports/media.storage';

export interface Deliverable {
  key: string;
  size: number;
  sha256: string;
  mimeType: string;
  /** `attachment` for documents (never rendered by the browser), `inline` otherwise. */
  disposition: 'inline' | 'attachment';
  fileName: string | null;
  /**
   * View-once media is never cached and never handed out as a reusable URL: it is
   * streamed through Parley even when the store could presign.
   */
  viewOnce: boolean;
}

/** Media is immutable (content-addressed) but private to its audience. */
const CACHEABLE = 'private, max-age=31536000, immutable';
const NOT_CACHEABLE = 'private, no-store';

/**
 * Writes a media download: a 302 to a presigned URL when the store offers one, otherwise
 * the bytes with Range (206/416), ETag (the SHA-256) and If-None-Match (304) support.
 */
@Injectable()
export class MediaDelivery {
  private readonly logger = new Logger(MediaDelivery.name);

  constructor(
    private readonly storage: MediaStorage,
    private readonly config: AppConfig,
  ) {}

  /** Serves a picture (profile photo, group icon) that the caller was allowed to see. */
  sendPicture(req: Request, res: Response, picture: MediaRecord): Promise<void> {
    return this.send(req, res, {
      key: picture.storageKey,
      size: picture.size,
      sha256: picture.sha256,
      mimeType: picture.mimeType,
      disposition: 'inline',
      fileName: null,
      viewOnce: false,
    });
  }

  async send(req: Request, res: Response, item: Deliverable): Promise<void> {
    const etag = `"${item.sha256}"`;
    const cacheControl = item.viewOnce ? NOT_CACHEABLE : CACHEABLE;
    const disposition = contentDisposition(item.disposition, item.fileName);

    if (!item.viewOnce) {
      const url = await this.storage.presignedGetUrl(item.key, {
        expiresInSec: this.config.media.urlExpirySec,
        contentType: item.mimeType,
        contentDisposition: disposition,
        cacheControl,
      });
      if (url) {
        // The redirect itself must not outlive the URL it points at.
        res.setHeader('Cache-Control', NOT_CACHEABLE);
        res.redirect(302, url);
        return;
      }
    }

    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Disposition', disposition);
    // User content: never sniffed into something executable, never scripted.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");

    if (!item.viewOnce && matchesEtag(req.headers['if-none-match'], etag)) {
      res.status(304).end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range =
      ifRange && ifRange !== etag
        ? { kind: 'full' as const }
        : parseRange(req.headers.range, item.size);
    if (range.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${item.size}`);
      res.status(416).json({
        statusCode: 416,
        code: ErrorCode.VALIDATION_FAILED,
        message: `Range not satisfiable (the media has ${item.size} bytes)`,
      });
      return;
    }
    res.setHeader('Content-Type', item.mimeType);
    let byteRange: { start: number; end: number } | undefined;
    if (range.kind === 'partial') {
      byteRange = { start: range.start, end: range.end };
      res.status(206);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${item.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(item.size));
    }
    if (req.method === 'HEAD' || item.size === 0) {
      res.end();
      return;
    }
    const stream = await this.storage.read(item.key, byteRange);
    try {
      await pipeline(stream, res);
    } catch (error) {
      // The client went away, or the store failed mid-stream: headers are gone already.
      if (!res.destroyed) this.logger.warn({ err: error, key: item.key }, 'media stream failed');
      res.destroy();
    }
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}

/** RFC 6266: an ASCII fallback name plus the exact name in RFC 5987 encoding. */
export function contentDisposition(type: 'inline' | 'attachment', fileName: string | null): string {
  if (!fileName) return type;
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
