import { fromBuffer } from 'file-type';

/** file-type reads at most this much to recognise a format; the upload keeps this head. */
export const SNIFF_BYTES = 4100;

/** ASF header GUID (WMV/WMA). */
const ASF_MAGIC = Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9]);

/**
 * The media type of a file from its first bytes, or null when it is not one we can tell.
 *
 * Only the head is handed to file-type, so its parsers stop at the end of a bounded
 * buffer. ASF is refused before file-type sees it: file-type 16's ASF parser loops
 * forever on a header object whose declared size is below 24 (a negative skip), and
 * ASF is not an accepted format anyway.
 */
export async function sniffType(head: Buffer): Promise<string | null> {
  const bytes = head.subarray(0, SNIFF_BYTES);
  if (!bytes.length) return null;
  if (bytes.subarray(0, ASF_MAGIC.length).equals(ASF_MAGIC)) return null;
  const found = await fromBuffer(bytes);
  if (found) return found.mime;
  return looksLikeText(bytes, head.length > SNIFF_BYTES) ? 'text/plain' : null;
}

/**
 * Plain text: valid UTF-8 without control characters other than tab, line breaks and
 * form feed. `truncated` allows a multi-byte character cut at the end of the head.
 */
export function looksLikeText(bytes: Buffer, truncated: boolean): boolean {
  let end = bytes.length;
  if (truncated) {
    // Step back over a partial UTF-8 sequence at the cut (at most 3 bytes).
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xc0) === 0x80) back++;
    const lead = end - back - 1;
    if (lead >= 0 && bytes[lead] >= 0xc0) {
      const need = bytes[lead] >= 0xf0 ? 4 : bytes[lead] >= 0xe0 ? 3 : 2;
      if (back + 1 < need) end = lead;
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}
