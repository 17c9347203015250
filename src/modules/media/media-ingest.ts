import { createHash, randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../common/errors';
import { SNIFF_BYTES, sniffType } from './content-sniffer';
import { resolveKind, type Declared } from './domain/media-types';
import type { MediaKind } from './domain/media';

/** A received upload in a temporary file, with what its bytes turned out to be. */
export interface IngestedFile {
  path: string;
  size: number;
  sha256: string;
  kind: MediaKind;
  mimeType: string;
}

export interface IngestLimits {
  /** Largest file per kind, in bytes. */
  maxBytes: Record<MediaKind, number>;
  /** What is left of the uploader's hourly quota, or null without a quota. */
  quotaRemaining: number | null;
  /** How long until `bytes` more would fit in the quota (for RATE_LIMITED). */
  quotaRetryAfterMs(bytes: number): Promise<number>;
}

/** Resolves the kind of a file from its head, or throws VALIDATION_FAILED. */
export async function classify(
  head: Buffer,
  declared: Declared,
): Promise<{ kind: MediaKind; mimeType: string }> {
  if (!head.length) throw AppError.validation('The file is empty');
  const resolution = resolveKind(await sniffType(head), declared);
  if (!resolution.ok) throw AppError.validation(resolution.message);
  return { kind: resolution.kind, mimeType: resolution.mimeType };
}

/**
 * Receives an upload into a temporary file while hashing it. The type is decided from
 * the first bytes as soon as they have arrived, and from then on the kind's size limit
 * and the uploader's quota stop the transfer the moment they are passed, so an
 * unacceptable file never lands on disk in full. The temporary file is removed on any
 * failure; on success the caller owns it.
 */
export async function ingest(
  source: AsyncIterable<Buffer | Uint8Array>,
  declared: Declared,
  limits: IngestLimits,
  tempDir: string,
): Promise<IngestedFile> {
  const path = join(tempDir, `${randomUUID()}.upload`);
  const file = await open(path, 'wx', 0o600);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  let decided: { kind: MediaKind; mimeType: string } | undefined;

  const checkSize = async (): Promise<void> => {
    if (!decided) return;
    const max = limits.maxBytes[decided.kind];
    if (size > max) {
      throw AppError.tooLarge(`${capitalize(decided.kind)} files are limited to ${max} bytes`);
    }
    if (limits.quotaRemaining !== null && size > limits.quotaRemaining) {
      throw AppError.rateLimited(
        await limits.quotaRetryAfterMs(size),
        'Hourly upload quota exceeded',
      );
    }
  };

  try {
    for await (const piece of source) {
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      size += chunk.length;
      if (!decided) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes >= SNIFF_BYTES) decided = await classify(Buffer.concat(head), declared);
      }
      await checkSize();
      hash.update(chunk);
      await file.write(chunk);
    }
    decided ??= await classify(Buffer.concat(head), declared);
    await checkSize();
    await file.close();
    return { path, size, sha256: hash.digest('hex'), ...decided };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
