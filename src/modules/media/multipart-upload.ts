import type { Request, Response } from 'express';
import multer, { MulterError, type StorageEngine } from 'multer';
import { rm } from 'node:fs/promises';
import { AppError } from '../../common/errors';
import { ingest, type IngestedFile, type IngestLimits } from './media-ingest';

/** The multipart field that carries the file. */
export const FILE_FIELD = 'file';

export interface ReceivedUpload {
  file: IngestedFile;
  fileName: string;
}

/**
 * A multer storage engine that streams the file through `ingest` (type from the bytes,
 * limits while receiving, SHA-256) into a temporary file. One engine per request.
 */
class IngestEngine implements StorageEngine {
  received?: ReceivedUpload;

  constructor(
    private readonly limits: IngestLimits,
    private readonly tempDir: string,
  ) {}

  _handleFile(
    _req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    // Leaving a stream's iterator early normally destroys the stream, and multer would
    // report that AbortError instead of the refusal: keep the stream, drain it on refusal.
    const chunks = file.stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    ingest(
      chunks,
      { mimeType: file.mimetype, fileName: file.originalname },
      this.limits,
      this.tempDir,
    ).then(
      (ingested) => {
        this.received = { file: ingested, fileName: file.originalname };
        callback(null, { size: ingested.size });
      },
      (error: unknown) => {
        file.stream.resume();
        callback(error);
      },
    );
  }

  _removeFile(
    _req: Request,
    _file: Express.Multer.File,
    callback: (error: Error | null) => void,
  ): void {
    const path = this.received?.file.path;
    this.received = undefined;
    if (!path) return callback(null);
    rm(path, { force: true }).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}

/**
 * Receives `multipart/form-data` with the file in field `file` (at most one file, a few
 * small fields). On refusal the rest of the body is read and dropped before the answer
 * (multer's behaviour), so clients that send before they read get the error, not EPIPE.
 */
export function receiveMultipart(
  req: Request,
  res: Response,
  limits: IngestLimits,
  tempDir: string,
): Promise<ReceivedUpload> {
  const engine = new IngestEngine(limits, tempDir);
  const largest = Math.max(...Object.values(limits.maxBytes));
  const middleware = multer({
    storage: engine,
    defParamCharset: 'utf8',
    limits: {
      files: 1,
      fields: 10,
      parts: 11,
      fieldSize: 64 * 1024,
      headerPairs: 100,
      // A backstop: ingest applies the (smaller) limit of the file's kind itself.
      fileSize: largest,
    },
  }).single(FILE_FIELD);
  return new Promise((resolve, reject) => {
    middleware(req, res, (error?: unknown) => {
      if (error) return reject(toUploadError(error));
      if (!engine.received) {
        return reject(
          AppError.validation(`Send the file as multipart/form-data in the field "${FILE_FIELD}"`),
        );
      }
      resolve(engine.received);
    });
  });
}

function toUploadError(error: unknown): Error {
  if (error instanceof AppError) return error;
  if (error instanceof MulterError) {
    if (error.code === 'LIMIT_FILE_SIZE') return AppError.tooLarge('The file is too large');
    if (error.code === 'LIMIT_UNEXPECTED_FILE' || error.code === 'LIMIT_FILE_COUNT') {
      return AppError.validation(`Send exactly one file, in the field "${FILE_FIELD}"`);
    }
    return AppError.validation(`Malformed upload: ${error.message}`);
  }
  // busboy's parse errors (a cut-off or malformed body).
  if (
    error instanceof Error &&
    /multipart|form|boundary|Unexpected end|Request (aborted|closed)/i.test(error.message)
  ) {
    return AppError.validation(`Malformed multipart body: ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
