import { kindsOfDeclaredType, kindsOfFileName, resolveKind } from './media-types';

describe('resolveKind', () => {
  it('takes the kind from the sniffed type', () => {
    expect(resolveKind('image/jpeg')).toEqual({ ok: true, kind: 'image', mimeType: 'image/jpeg' });
    expect(resolveKind('video/quicktime')).toEqual({
      ok: true,
      kind: 'video',
      mimeType: 'video/quicktime',
    });
    expect(resolveKind('audio/vnd.wave')).toMatchObject({ ok: true, kind: 'audio' });
    expect(resolveKind('application/pdf')).toMatchObject({ ok: true, kind: 'document' });
    expect(resolveKind('text/plain')).toMatchObject({ ok: true, kind: 'document' });
  });

  it('refuses what could not be sniffed and types off the allow-list', () => {
    expect(resolveKind(null)).toMatchObject({ ok: false, reason: 'unsupported' });
    for (const type of ['application/x-elf', 'image/svg+xml', 'image/tiff', 'video/x-ms-asf']) {
      expect(resolveKind(type)).toMatchObject({ ok: false, reason: 'unsupported' });
    }
  });

  it('refuses a declaration that contradicts the bytes (a text file sent as a JPEG)', () => {
    const spoofed = resolveKind('text/plain', { mimeType: 'image/jpeg', fileName: 'photo.jpg' });
    expect(spoofed).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(resolveKind('text/plain', { fileName: 'photo.jpg' })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(resolveKind('image/png', { mimeType: 'application/pdf' })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('never lets a declaration make a file acceptable', () => {
    expect(resolveKind('application/x-msdownload', { mimeType: 'application/pdf' })).toMatchObject({
      ok: false,
      reason: 'unsupported',
    });
  });

  it('ignores declarations that name nothing', () => {
    for (const declared of [
      { mimeType: 'application/octet-stream' },
      { mimeType: '' },
      { fileName: 'noextension' },
      { fileName: 'weird.xyz' },
      {},
    ]) {
      expect(resolveKind('image/png', declared)).toMatchObject({ ok: true, kind: 'image' });
    }
  });

  it('reads a WebM or MP4 declared as audio as a voice note', () => {
    expect(resolveKind('video/webm', { mimeType: 'audio/webm' })).toEqual({
      ok: true,
      kind: 'audio',
      mimeType: 'audio/webm',
    });
    expect(resolveKind('video/mp4', { fileName: 'note.m4a' })).toEqual({
      ok: true,
      kind: 'audio',
      mimeType: 'audio/mp4',
    });
    expect(resolveKind('video/webm')).toMatchObject({ kind: 'video', mimeType: 'video/webm' });
    expect(resolveKind('video/webm', { fileName: 'x.webm' })).toMatchObject({ kind: 'video' });
  });
});

describe('declared kinds', () => {
  it('by content type', () => {
    expect(kindsOfDeclaredType('image/heic')).toEqual(['image']);
    expect(kindsOfDeclaredType('VIDEO/MP4; codecs=avc1')).toEqual(['video']);
    expect(kindsOfDeclaredType('audio/ogg')).toEqual(['audio']);
    expect(kindsOfDeclaredType('application/vnd.ms-excel')).toEqual(['document']);
    expect(kindsOfDeclaredType('text/csv')).toEqual(['document']);
    expect(kindsOfDeclaredType('application/octet-stream')).toBeNull();
    expect(kindsOfDeclaredType(undefined)).toBeNull();
    expect(kindsOfDeclaredType('garbage')).toBeNull();
  });

  it('by file extension', () => {
    expect(kindsOfFileName('IMG_0001.JPG')).toEqual(['image']);
    expect(kindsOfFileName('clip.webm')).toEqual(['video', 'audio']);
    expect(kindsOfFileName('report.final.pdf')).toEqual(['document']);
    expect(kindsOfFileName('Makefile')).toBeNull();
    expect(kindsOfFileName(null)).toBeNull();
  });
});
