import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { AppError } from '../../common/errors';

export interface SanitizedImage {
  width: number;
  height: number;
  mimeType: string;
}

/** Formats whose animation survives re-encoding. */
const ANIMATED = new Set(['image/gif', 'image/webp']);

/**
 * Decodes an uploaded image and writes a clean re-encoding of it: pixels only, in the
 * same format, turned upright by its EXIF orientation, with every piece of metadata
 * (EXIF with GPS, XMP, IPTC, comments) left behind.
 *
 * The header is read first and checked against `maxPixels`, so a decompression bomb
 * (a few bytes declaring 50,000 x 50,000 pixels) is refused before any pixel is decoded;
 * sharp's limitInputPixels enforces the same bound again when decoding. failOn 'error'
 * refuses truncated and corrupt data instead of passing on a half-grey picture.
 */
export async function sanitizeImage(
  input: string,
  output: string,
  mimeType: string,
  maxPixels: number,
): Promise<SanitizedImage> {
  const animated = ANIMATED.has(mimeType);
  const options: SharpOptions = {
    limitInputPixels: maxPixels,
    failOn: 'error',
    animated,
    sequentialRead: true,
  };
  let metadata: Metadata;
  try {
    metadata = await sharp(input, options).metadata();
  } catch (error) {
    throw imageError(error);
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  const frames = metadata.pages ?? 1;
  if (!width || !height) throw AppError.validation('The image has no size');
  if (width * height * frames > maxPixels) {
    throw AppError.validation(`The image is larger than ${maxPixels} pixels`);
  }

  let pipeline = sharp(input, options);
  // Orientation lives in EXIF, which is dropped: apply it to the pixels first.
  if (!animated || frames === 1) pipeline = pipeline.rotate();
  switch (mimeType) {
    case 'image/jpeg':
      pipeline = pipeline.jpeg({ quality: 90 });
      break;
    case 'image/png':
      pipeline = pipeline.png();
      break;
    case 'image/webp':
      pipeline = pipeline.webp({ quality: 90 });
      break;
    case 'image/gif':
      pipeline = pipeline.gif();
      break;
    default:
      throw AppError.validation(`Unsupported image type (${mimeType})`);
  }
  try {
    // sharp writes no metadata unless asked to (withMetadata/keepExif): nothing is kept.
    const info = await pipeline.toFile(output);
    return { width: info.width, height: info.pageHeight ?? info.height, mimeType };
  } catch (error) {
    throw imageError(error);
  }
}

/** A JPEG no larger than maxPx on either side, from an image file or encoded bytes. */
export async function makeThumbnail(
  input: string | Buffer,
  maxPx: number,
  maxPixels: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error' })
    .rotate()
    .resize(maxPx, maxPx, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 75 })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function imageError(error: unknown): AppError {
  const text = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(text)) return AppError.validation('The image has too many pixels');
  // libvips messages name internals; the client only needs to know the file is broken.
  return AppError.validation('The image is corrupt or cannot be decoded');
}
