import sharp from 'sharp';
import { looksLikeText, sniffType } from './content-sniffer';

describe('sniffType', () => {
  it('recognises formats by their bytes', async () => {
    const jpeg = await sharp({
      create: { width: 4, height: 4, channels: 3, background: '#808080' },
    })
      .jpeg()
      .toBuffer();
    expect(await sniffType(jpeg)).toBe('image/jpeg');
    expect(await sniffType(Buffer.from('%PDF-1.7\n%\xe2\xe3\n1 0 obj'))).toBe('application/pdf');
    expect(await sniffType(Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'))).toBe(
      'audio/vnd.wave',
    );
  });

  it('reads UTF-8 text as text/plain and binary junk as nothing', async () => {
    expect(await sniffType(Buffer.from('Grüße, 你好\nline two\n'))).toBe('text/plain');
    expect(await sniffType(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00]))).toBeNull();
    expect(await sniffType(Buffer.alloc(0))).toBeNull();
  });

  it('refuses ASF before file-type sees it (its parser can loop forever on a bad header)', async () => {
    const asf = Buffer.alloc(200);
    Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9]).copy(asf);
    // A sub-object whose declared size is below 24 sends file-type 16 backwards.
    asf.writeBigUInt64LE(1n, 30 + 16);
    const started = Date.now();
    expect(await sniffType(asf)).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('looks only at the head of a long file', async () => {
    const text = Buffer.from('a'.repeat(10_000));
    text[9000] = 0; // beyond the head: not seen
    expect(await sniffType(text)).toBe('text/plain');
  });
});

describe('looksLikeText', () => {
  it('allows a multi-byte character cut at the end of a truncated head', () => {
    const euro = Buffer.from('price: 5€');
    const cut = euro.subarray(0, euro.length - 1);
    expect(looksLikeText(cut, true)).toBe(true);
    expect(looksLikeText(cut, false)).toBe(false);
  });

  it('refuses control characters', () => {
    expect(looksLikeText(Buffer.from('tab\tand\r\nnewlines\f'), false)).toBe(true);
    expect(looksLikeText(Buffer.from('bell\u0007'), false)).toBe(false);
    expect(looksLikeText(Buffer.from('nul\u0000'), false)).toBe(false);
  });
});
