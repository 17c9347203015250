/** The tus resumable upload protocol 1.0.0: core, creation, expiration and termination. */
export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,expiration,termination';
export const TUS_CHUNK_CONTENT_TYPE = 'application/offset+octet-stream';

/** Headers a browser client must be allowed to read from tus responses. */
export const TUS_EXPOSED_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Expires',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Media-Id',
].join(', ');

/**
 * Parses Upload-Metadata: comma-separated `key base64value` pairs (the value may be
 * absent). Returns null when the header is malformed.
 */
export function parseUploadMetadata(header: string | undefined): Map<string, string> | null {
  const out = new Map<string, string>();
  if (!header || !header.trim()) return out;
  for (const pair of header.split(',')) {
    const parts = pair.trim().split(' ');
    if (parts.length > 2 || !/^[\x21-\x7e]+$/.test(parts[0] ?? '')) return null;
    const [key, value] = parts;
    if (out.has(key)) return null;
    if (value === undefined) {
      out.set(key, '');
      continue;
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return null;
    out.set(key, Buffer.from(value, 'base64').toString('utf8'));
  }
  return out;
}

/** A non-negative whole number header value, or null. */
export function parseOffsetHeader(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,16}$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}
