import { parseRange } from './byte-range';

describe('parseRange', () => {
  const size = 1000;

  it('serves the whole object without a usable header', () => {
    for (const header of [
      undefined,
      '',
      'items=0-5',
      'bytes=0-5,10-20',
      'bytes=',
      'bytes=-',
      'bytes=9-3',
      'bytes=abc',
    ]) {
      expect(parseRange(header, size)).toEqual({ kind: 'full' });
    }
  });

  it('reads first-last, open-ended and suffix ranges', () => {
    expect(parseRange('bytes=0-9', size)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=0-0', size)).toEqual({ kind: 'partial', start: 0, end: 0 });
    expect(parseRange('bytes=990-', size)).toEqual({ kind: 'partial', start: 990, end: 999 });
    expect(parseRange('bytes=-10', size)).toEqual({ kind: 'partial', start: 990, end: 999 });
    expect(parseRange('BYTES= 5 - 6 ', size)).toEqual({ kind: 'partial', start: 5, end: 6 });
  });

  it('clamps a last position past the end', () => {
    expect(parseRange('bytes=500-5000', size)).toEqual({ kind: 'partial', start: 500, end: 999 });
    expect(parseRange('bytes=-5000', size)).toEqual({ kind: 'partial', start: 0, end: 999 });
  });

  it('is unsatisfiable from the end on, for an empty suffix, and on empty objects', () => {
    expect(parseRange('bytes=1000-', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=1000-1005', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});
