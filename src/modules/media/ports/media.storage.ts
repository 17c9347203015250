import type { Readable } from 'node:stream';

/** Inclusive byte positions, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PresignOptions {
  expiresInSec: number;
  /** Response headers the store is asked to send with the object. */
  contentType: string;
  contentDisposition?: string;
  cacheControl?: string;
}

/** A file on local disk, or bytes in memory. */
export type ObjectSource = { path: string; size: number } | Buffer;

/** Thrown when an object is not in the store. */
export class MediaObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`media object ${key} not found`);
    this.name = 'MediaObjectNotFoundError';
  }
}

/**
 * Where media bytes live: local disk under DATA_DIR, or an S3-compatible store. Keys are
 * content-addressed (a SHA-256 in the key), so writing a key that exists is a no-op.
 * Keys use [A-Za-z0-9._-] segments separated by '/'.
 */
export abstract class MediaStorage {
  /** Which backend this is, for logs and health output. */
  abstract readonly backend: 'local' | 's3';

  /** Stores the bytes under the key, unless the key already holds an object. */
  abstract put(key: string, source: ObjectSource, contentType: string): Promise<void>;

  /** The object's size, or null when there is none. */
  abstract stat(key: string): Promise<{ size: number } | null>;

  /** The bytes of an object, or of an inclusive range of it. Throws MediaObjectNotFoundError. */
  abstract read(key: string, range?: ByteRange): Promise<Readable>;

  /** Removes the object; removing a missing one is not an error. */
  abstract delete(key: string): Promise<void>;

  /**
   * A URL that lets a client fetch the object straight from the store until it expires,
   * or null when this store serves bytes only through Parley.
   */
  abstract presignedGetUrl(key: string, options: PresignOptions): Promise<string | null>;

  /** Throws when the store cannot be reached (readiness check). */
  abstract ping(): Promise<void>;
}

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Refuses keys that could leave the store's root or confuse a backend. */
export function assertValidKey(key: string): void {
  if (key.length > 512 || !KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new Error(`invalid media storage key: ${JSON.stringify(key.slice(0, 80))}`);
  }
}
