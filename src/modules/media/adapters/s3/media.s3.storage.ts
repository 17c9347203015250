import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import type { S3Settings } from '../../../../common/config/app-config';
import {
  assertValidKey,
  MediaObjectNotFoundError,
  MediaStorage,
  type ByteRange,
  type ObjectSource,
  type PresignOptions,
} from '../../ports/media.storage';

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return (
      error.$metadata.httpStatusCode === 404 ||
      error.name === 'NotFound' ||
      error.name === 'NoSuchKey'
    );
  }
  return false;
}

/** The bytes start..end (inclusive, counted from the stream's start); the rest is dropped. */
function slice(source: Readable, start: number, end: number): Readable {
  let position = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(0, start - position);
      const to = Math.min(chunk.length, end + 1 - position);
      position += chunk.length;
      done(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
  source.once('error', (error) => out.destroy(error));
  return source.pipe(out);
}

/** S3 client options from the settings; also used to build the presigning client. */
export function s3ClientOptions(s: S3Settings, endpoint = s.endpoint) {
  return {
    region: s.region,
    endpoint,
    forcePathStyle: s.forcePathStyle,
    credentials: s.credentials,
    requestChecksumCalculation: s.requestChecksumCalculation,
    responseChecksumValidation: s.responseChecksumValidation,
  } as const;
}

/**
 * Any S3-compatible store. Objects are written with one PutObject (media is at most
 * 5 GiB, S3's single-request limit), read with ranged GetObject, and handed to clients as
 * presigned GET URLs. Presigning is local computation: a second client configured with
 * the public endpoint signs URLs for the host that clients actually reach.
 */
export class MediaS3Storage extends MediaStorage {
  readonly backend = 's3' as const;
  private readonly client: S3Client;
  private readonly signer: S3Client;

  constructor(private readonly settings: S3Settings) {
    super();
    this.client = new S3Client(s3ClientOptions(settings));
    this.signer = settings.publicEndpoint
      ? new S3Client(s3ClientOptions(settings, settings.publicEndpoint))
      : this.client;
  }

  private get bucket(): string {
    return this.settings.bucket;
  }

  async put(key: string, source: ObjectSource, contentType: string): Promise<void> {
    assertValidKey(key);
    // Content-addressed: an existing object already holds these bytes.
    if (await this.stat(key)) return;
    const body = Buffer.isBuffer(source) ? source : createReadStream(source.path);
    const length = Buffer.isBuffer(source) ? source.length : source.size;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: length,
        ContentType: contentType,
      }),
    );
  }

  async stat(key: string): Promise<{ size: number } | null> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      if (!(object.Body instanceof Readable)) throw new Error('S3 returned no readable body');
      if (!range) return object.Body;
      // HTTP lets a server ignore a Range or answer a wider one (s3rver sends the whole
      // object for bytes=0-0): cut the asked-for bytes out of what came back.
      const served = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(object.ContentRange ?? '');
      const from = served ? Number(served[1]) : 0;
      const to = served ? Number(served[2]) : Number.MAX_SAFE_INTEGER;
      const last = served ? Math.min(range.end, Number(served[3]) - 1) : range.end;
      if (from === range.start && to === last) return object.Body;
      return slice(object.Body, range.start - from, range.end - from);
    } catch (error) {
      if (isNotFound(error)) throw new MediaObjectNotFoundError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async presignedGetUrl(key: string, options: PresignOptions): Promise<string | null> {
    assertValidKey(key);
    if (!this.settings.presignedDownloads) return null;
    return getSignedUrl(
      this.signer,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: options.contentType,
        ResponseContentDisposition: options.contentDisposition,
        ResponseCacheControl: options.cacheControl,
      }),
      { expiresIn: options.expiresInSec },
    );
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Called by Nest on shutdown: closes the HTTP connection pools. */
  onModuleDestroy(): void {
    this.close();
  }

  close(): void {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}
