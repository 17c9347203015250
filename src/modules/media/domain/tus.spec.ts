import { parseOffsetHeader, parseUploadMetadata } from './tus';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseUploadMetadata', () => {
  it('decodes base64 values and keys without values', () => {
    const parsed = parseUploadMetadata(
      `filename ${b64('Grüße.pdf')},filetype ${b64('application/pdf')},is_confidential`,
    );
    expect(parsed).toEqual(
      new Map([
        ['filename', 'Grüße.pdf'],
        ['filetype', 'application/pdf'],
        ['is_confidential', ''],
      ]),
    );
    expect(parseUploadMetadata(undefined)).toEqual(new Map());
    expect(parseUploadMetadata('  ')).toEqual(new Map());
  });

  it('refuses malformed headers', () => {
    for (const header of ['filename not*base64', 'a b c', `x ${b64('1')},x ${b64('2')}`, 'k abc']) {
      expect(parseUploadMetadata(header)).toBeNull();
    }
  });
});

describe('parseOffsetHeader', () => {
  it('accepts whole numbers only', () => {
    expect(parseOffsetHeader('0')).toBe(0);
    expect(parseOffsetHeader(' 1048576 ')).toBe(1048576);
    for (const bad of [undefined, '', '-1', '1.5', '1e3', '0x10', '99999999999999999']) {
      expect(parseOffsetHeader(bad)).toBeNull();
    }
  });
});
