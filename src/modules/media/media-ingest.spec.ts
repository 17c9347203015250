import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../common/errors';
import { ingest, type IngestLimits } from './media-ingest';

const MB = 1024 * 1024;

function pdfOf(size: number): Buffer {
  const data = Buffer.alloc(size, 0x20);
  data.write('%PDF-1.4\n');
  return data;
}

async function* pieces(data: Buffer, size: number, read = { bytes: 0 }): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) {
    read.bytes = i + size;
    yield data.subarray(i, i + size);
  }
}

describe('ingest', () => {
  let dir: string;
  const limits = (over: Partial<IngestLimits> = {}): IngestLimits => ({
    maxBytes: { image: MB, video: 4 * MB, audio: 4 * MB, document: 2 * MB },
    quotaRemaining: null,
    quotaRetryAfterMs: async () => 1234,
    ...over,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-ingest-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failure = async (promise: Promise<unknown>): Promise<AppError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  it('writes the file, hashes it and types it from bytes arriving in small pieces', async () => {
    const data = pdfOf(100_000);
    const file = await ingest(pieces(data, 7), {}, limits(), dir);
    expect(file).toMatchObject({
      size: data.length,
      kind: 'document',
      mimeType: 'application/pdf',
    });
    expect(file.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readFileSync(file.path)).toEqual(data);
  });

  it('stops reading at the kind’s limit, leaving nothing behind', async () => {
    const data = pdfOf(3 * MB);
    const read = { bytes: 0 };
    const error = await failure(ingest(pieces(data, 64 * 1024, read), {}, limits(), dir));
    expect(error.toBody()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(read.bytes).toBeLessThanOrEqual(2 * MB + 64 * 1024);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops at the quota with RATE_LIMITED and when to retry', async () => {
    const error = await failure(
      ingest(pieces(pdfOf(500_000), 10_000), {}, limits({ quotaRemaining: 100_000 }), dir),
    );
    expect(error.toBody()).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1234 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses unknown, mismatching and empty files from the first bytes', async () => {
    const text = Buffer.from('just some words\n'.repeat(1000));
    const read = { bytes: 0 };
    const spoofed = await failure(
      ingest(
        pieces(text, 1000, read),
        { mimeType: 'image/jpeg', fileName: 'a.jpg' },
        limits(),
        dir,
      ),
    );
    expect(spoofed.code).toBe('VALIDATION_FAILED');
    // Refused as soon as the head was in, not at the end.
    expect(read.bytes).toBeLessThan(6000);
    expect((await failure(ingest(pieces(Buffer.alloc(0), 1), {}, limits(), dir))).message).toBe(
      'The file is empty',
    );
    const binary = Buffer.alloc(9000, 0);
    expect((await failure(ingest(pieces(binary, 4096), {}, limits(), dir))).code).toBe(
      'VALIDATION_FAILED',
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
