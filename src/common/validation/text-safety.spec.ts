import { assertNoNulCharacter, findNulCharacter } from './text-safety';

describe('findNulCharacter', () => {
  it('finds U+0000 in values and keys, nested, and names where', () => {
    expect(findNulCharacter('a\u0000')).toBe('value');
    expect(findNulCharacter({ a: { b: ['ok', 'x\u0000'] } })).toBe('a.b[1]');
    expect(findNulCharacter({ ['k\u0000']: 1 })).toBe('key');
    expect(findNulCharacter({ about: 'fine', n: 1, t: true, z: null })).toBeUndefined();
  });

  it('passes other control characters and any Unicode', () => {
    expect(findNulCharacter({ s: '\u0001\t\n€😀\uFFFF' })).toBeUndefined();
  });

  it('stops at a depth no payload reaches instead of recursing without end', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 10_000; i += 1) deep = [deep];
    expect(findNulCharacter(deep)).toBeUndefined();
  });

  it('throws VALIDATION_FAILED naming the field, without echoing the character', () => {
    expect(() => assertNoNulCharacter({ displayName: 'a\u0000' })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        message: 'displayName must not contain U+0000',
      }),
    );
  });
});
