import { SeqTracker } from './seq-tracker';

describe('SeqTracker', () => {
  it('drops a seq seen before and starts a new conversation at its first seq', () => {
    const t = new SeqTracker();
    expect(t.see('c', 5)).toBe(true);
    expect(t.see('c', 5)).toBe(false);
    expect(t.see('c', 4)).toBe(false);
    expect(t.contiguous('c')).toBe(5);
    expect(t.gap('c')).toBeUndefined();
  });

  it('reports the first gap and closes it as the missing seqs arrive in any order', () => {
    const t = new SeqTracker();
    t.see('c', 1);
    t.see('c', 4);
    t.see('c', 7);
    expect(t.gap('c')).toEqual({ conversationId: 'c', afterSeq: 1, toSeq: 4 });
    t.see('c', 3);
    t.see('c', 2);
    expect(t.contiguous('c')).toBe(4);
    expect(t.gap('c')).toEqual({ conversationId: 'c', afterSeq: 4, toSeq: 7 });
    expect(t.see('c', 3)).toBe(false);
  });

  it('moves past seqs that will never arrive when given a baseline', () => {
    const t = new SeqTracker();
    t.see('c', 1);
    t.see('c', 5);
    t.see('c', 6);
    t.baseline('c', 4);
    expect(t.contiguous('c')).toBe(6);
    expect(t.gap('c')).toBeUndefined();
    t.baseline('c', 2);
    expect(t.contiguous('c')).toBe(6);
  });
});
