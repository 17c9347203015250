import {
  blobKey,
  chunkKey,
  cleanFileName,
  thumbnailKey,
  toMediaView,
  type MediaRecord,
} from './media';

describe('media domain', () => {
  it('cleans file names: no directories, no control characters, bounded', () => {
    expect(cleanFileName('C:\\Users\\me\\Résumé.pdf')).toBe('Résumé.pdf');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('a\u0000b\u001f"c".txt')).toBe('abc.txt');
    expect(cleanFileName('..')).toBeNull();
    expect(cleanFileName('')).toBeNull();
    expect(cleanFileName(undefined)).toBeNull();
    expect([...cleanFileName('é'.repeat(300))!]).toHaveLength(255);
  });

  it('derives storage keys from content hashes', () => {
    const sha = 'ab'.repeat(32);
    expect(blobKey(sha)).toBe(`blobs/ab/ab/${sha}`);
    expect(thumbnailKey(sha)).toBe(`thumbs/ab/ab/${sha}.jpg`);
    expect(chunkKey('u1', 1024, 'n0')).toBe('uploads/u1/1024-n0');
  });

  it('describes a record with the optional fields only when known', () => {
    const record: MediaRecord = {
      id: 'm1',
      uploaderId: 'u1',
      kind: 'document',
      mimeType: 'application/pdf',
      size: 10,
      sha256: 'f'.repeat(64),
      storageKey: 'k',
      fileName: null,
      width: null,
      height: null,
      durationMs: null,
      status: 'processing',
      thumbnail: null,
      noThumbnailReason: null,
      createdAt: new Date('2026-01-01T00:00:00Z'),
      processedAt: null,
    };
    expect(toMediaView(record)).toEqual({
      mediaId: 'm1',
      kind: 'document',
      mimeType: 'application/pdf',
      size: 10,
      sha256: 'f'.repeat(64),
      status: 'processing',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(
      toMediaView({
        ...record,
        kind: 'image',
        width: 4,
        height: 3,
        status: 'ready',
        thumbnail: { key: 't', sha256: 'e', size: 1, mimeType: 'image/jpeg' },
      }),
    ).toMatchObject({ width: 4, height: 3, thumbnailUrl: '/api/v1/media/m1/thumbnail' });
  });
});
