import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../common/errors';
import { pngBomb } from '../../../test/fixtures/media-files';
import { makeThumbnail, sanitizeImage } from './image-tools';

const LIMIT = 100_000_000;

describe('image tools', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-image-tools-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (data: Buffer): string => {
    const path = join(dir, `in-${++n}`);
    writeFileSync(path, data);
    return path;
  };
  const out = (): string => join(dir, `out-${++n}`);

  const refusal = async (promise: Promise<unknown>): Promise<AppError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    return error as AppError;
  };

  it('re-encodes a JPEG without EXIF or GPS, upright by its orientation', async () => {
    const original = await sharp({
      create: { width: 60, height: 40, channels: 3, background: '#336699' },
    })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({
        IFD0: { Make: 'SpyCam' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2405/100' },
      })
      .toBuffer();
    expect((await sharp(original).metadata()).orientation).toBe(6);
    const target = out();
    const result = await sanitizeImage(file(original), target, 'image/jpeg', LIMIT);
    // Orientation 6 is a quarter turn: the stored picture is 40 wide, 60 high.
    expect(result).toEqual({ width: 40, height: 60, mimeType: 'image/jpeg' });
    const stored = readFileSync(target);
    const meta = await sharp(stored).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 40, height: 60 });
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(stored.includes('SpyCam')).toBe(false);
  });

  it('keeps PNG transparency and GIF animation', async () => {
    const png = await sharp({
      create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const pngOut = out();
    await sanitizeImage(file(png), pngOut, 'image/png', LIMIT);
    expect(await sharp(readFileSync(pngOut)).metadata()).toMatchObject({
      format: 'png',
      hasAlpha: true,
    });

    const frames = [0, 1, 2].map((i) => Buffer.alloc(8 * 8 * 3, i * 80));
    const gif = await sharp(Buffer.concat(frames), {
      raw: { width: 8, height: 24, channels: 3, pageHeight: 8 },
    })
      .gif()
      .toBuffer();
    const gifOut = out();
    const result = await sanitizeImage(file(gif), gifOut, 'image/gif', LIMIT);
    expect(result).toMatchObject({ width: 8, height: 8 });
    expect(await sharp(readFileSync(gifOut), { animated: true }).metadata()).toMatchObject({
      format: 'gif',
      pages: 3,
    });
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    const bomb = pngBomb(50_000, 50_000);
    const started = Date.now();
    const error = await refusal(sanitizeImage(file(bomb), out(), 'image/png', LIMIT));
    expect(error.message).toMatch(/pixels/);
    expect(Date.now() - started).toBeLessThan(2000);
    // The limit is the setting, not a constant.
    await refusal(sanitizeImage(file(pngBomb(200, 200)), out(), 'image/png', 39_999));
  });

  it('refuses truncated and corrupt images', async () => {
    const raw = Buffer.alloc(200 * 150 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
    const jpeg = await sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
      .jpeg()
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length * 0.7));
    const error = await refusal(sanitizeImage(file(truncated), out(), 'image/jpeg', LIMIT));
    expect(error.message).toBe('The image is corrupt or cannot be decoded');
    const junk = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(500, 0x42)]);
    await refusal(sanitizeImage(file(junk), out(), 'image/jpeg', LIMIT));
    await refusal(sanitizeImage(file(jpeg), out(), 'image/tiff', LIMIT));
  });

  it('makes JPEG thumbnails that fit the box, on a white background', async () => {
    const wide = await sharp({
      create: { width: 1000, height: 500, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const thumb = await makeThumbnail(wide, 320, LIMIT);
    expect({ width: thumb.width, height: thumb.height }).toEqual({ width: 320, height: 160 });
    const stats = await sharp(thumb.data).stats();
    expect(stats.channels[0].mean).toBeGreaterThan(250);
    const small = await makeThumbnail(
      await sharp({ create: { width: 50, height: 40, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
      320,
      LIMIT,
    );
    // Never enlarged.
    expect({ width: small.width, height: small.height }).toEqual({ width: 50, height: 40 });
  });
});
