import type { MediaKind } from './media';

/**
 * What each kind accepts, by the type read from the file's bytes. Only formats that the
 * pipeline can handle safely are listed: images that sharp decodes and re-encodes,
 * containers that ffmpeg reads with a fixed demuxer, and common document formats.
 */
export const ALLOWED_TYPES: Record<MediaKind, readonly string[]> = {
  image: ['image/jpeg', 'image/png', 'image/webp', 'image/gif'],
  video: [
    'video/mp4',
    'video/quicktime',
    'video/webm',
    'video/x-matroska',
    'video/3gpp',
    'video/x-m4v',
  ],
  audio: [
    'audio/mpeg',
    'audio/ogg',
    'audio/opus',
    'audio/mp4',
    'audio/x-m4a',
    'audio/aac',
    'audio/vnd.wave',
    'audio/x-flac',
    'audio/amr',
  ],
  document: [
    'application/pdf',
    'application/zip',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.presentation',
    'application/epub+zip',
    'application/rtf',
    'application/x-cfb',
    'application/x-7z-compressed',
    'application/gzip',
    'text/plain',
  ],
};

/**
 * Containers whose audio-only files look like video from their bytes (browsers record
 * voice notes as WebM, some phones as MP4). Declared as audio, they are audio.
 */
const AUDIO_IN_VIDEO_CONTAINER: Record<string, string> = {
  'video/webm': 'audio/webm',
  'video/mp4': 'audio/mp4',
  'video/3gpp': 'audio/3gpp',
};

const KIND_ORDER: readonly MediaKind[] = ['image', 'video', 'audio', 'document'];

const EXTENSION_KINDS: Record<string, readonly MediaKind[]> = {
  jpg: ['image'],
  jpeg: ['image'],
  jfif: ['image'],
  png: ['image'],
  gif: ['image'],
  webp: ['image'],
  heic: ['image'],
  heif: ['image'],
  avif: ['image'],
  bmp: ['image'],
  tif: ['image'],
  tiff: ['image'],
  svg: ['image'],
  mp4: ['video', 'audio'],
  m4v: ['video'],
  mov: ['video'],
  webm: ['video', 'audio'],
  mkv: ['video'],
  '3gp': ['video', 'audio'],
  avi: ['video'],
  mp3: ['audio'],
  m4a: ['audio'],
  aac: ['audio'],
  ogg: ['audio'],
  oga: ['audio'],
  opus: ['audio'],
  wav: ['audio'],
  flac: ['audio'],
  amr: ['audio'],
  pdf: ['document'],
  txt: ['document'],
  csv: ['document'],
  doc: ['document'],
  docx: ['document'],
  xls: ['document'],
  xlsx: ['document'],
  ppt: ['document'],
  pptx: ['document'],
  odt: ['document'],
  ods: ['document'],
  odp: ['document'],
  rtf: ['document'],
  epub: ['document'],
  zip: ['document'],
  '7z': ['document'],
  gz: ['document'],
};

/** The kinds a client's declared content type names; null when it names none. */
export function kindsOfDeclaredType(mimeType: string | undefined): readonly MediaKind[] | null {
  const type = mimeType?.split(';')[0].trim().toLowerCase();
  if (!type || type === 'application/octet-stream' || !type.includes('/')) return null;
  if (type.startsWith('image/')) return ['image'];
  if (type.startsWith('audio/')) return ['audio'];
  if (type.startsWith('video/')) return ['video'];
  if (type.startsWith('application/') || type.startsWith('text/')) return ['document'];
  return null;
}

/** The kinds a file name's extension names; null for unknown or missing extensions. */
export function kindsOfFileName(fileName: string | null | undefined): readonly MediaKind[] | null {
  const match = fileName ? /\.([A-Za-z0-9]{1,8})$/.exec(fileName) : null;
  return match ? (EXTENSION_KINDS[match[1].toLowerCase()] ?? null) : null;
}

export interface Declared {
  mimeType?: string;
  fileName?: string | null;
}

export type Resolution =
  | { ok: true; kind: MediaKind; mimeType: string }
  | { ok: false; reason: 'unsupported' | 'mismatch'; message: string };

/**
 * Decides the kind of a file from the type sniffed from its bytes. What the client
 * declared (content type, file name) never makes a file acceptable; it only narrows the
 * choice, and a declaration that contradicts the bytes is refused as a mismatch.
 */
export function resolveKind(sniffed: string | null, declared: Declared = {}): Resolution {
  if (!sniffed) {
    return { ok: false, reason: 'unsupported', message: 'Unsupported file type' };
  }
  const candidates: Array<{ kind: MediaKind; mimeType: string }> = [];
  for (const kind of KIND_ORDER) {
    if (ALLOWED_TYPES[kind].includes(sniffed)) candidates.push({ kind, mimeType: sniffed });
  }
  const audioAlias = AUDIO_IN_VIDEO_CONTAINER[sniffed];
  if (audioAlias) candidates.push({ kind: 'audio', mimeType: audioAlias });
  if (!candidates.length) {
    return { ok: false, reason: 'unsupported', message: `Unsupported file type (${sniffed})` };
  }
  let allowed = candidates;
  for (const named of [
    kindsOfDeclaredType(declared.mimeType),
    kindsOfFileName(declared.fileName),
  ]) {
    if (!named) continue;
    allowed = allowed.filter((c) => named.includes(c.kind));
  }
  if (!allowed.length) {
    const what = [declared.mimeType, declared.fileName].filter(Boolean).join(', ');
    return {
      ok: false,
      reason: 'mismatch',
      message: `The file's content (${sniffed}) does not match its declared type (${what})`,
    };
  }
  return { ok: true, ...allowed[0] };
}
