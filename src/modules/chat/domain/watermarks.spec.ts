import fc from 'fast-check';
import { applyAck, statusFor, type Watermarks } from './watermarks';

const status = fc.constantFrom('delivered' as const, 'read' as const);
const ack = fc.record({ seq: fc.integer({ min: -5, max: 2000 }), status });

function replay(
  acks: Array<{ seq: number; status: 'delivered' | 'read' }>,
  lastSeq: number,
): Watermarks[] {
  const history: Watermarks[] = [{ delivered: 0, read: 0 }];
  for (const a of acks)
    history.push(applyAck(history[history.length - 1], a.seq, a.status, lastSeq));
  return history;
}

describe('watermark rules', () => {
  it('never move backwards, whatever the order of acks', () => {
    fc.assert(
      fc.property(
        fc.array(ack, { maxLength: 60 }),
        fc.integer({ min: 0, max: 1500 }),
        (acks, lastSeq) => {
          const h = replay(acks, lastSeq);
          for (let i = 1; i < h.length; i++) {
            expect(h[i].delivered).toBeGreaterThanOrEqual(h[i - 1].delivered);
            expect(h[i].read).toBeGreaterThanOrEqual(h[i - 1].read);
          }
        },
      ),
    );
  });

  it('read implies delivered, and nothing passes the last seq or goes below zero', () => {
    fc.assert(
      fc.property(
        fc.array(ack, { maxLength: 60 }),
        fc.integer({ min: 0, max: 1500 }),
        (acks, lastSeq) => {
          for (const w of replay(acks, lastSeq)) {
            expect(w.delivered).toBeGreaterThanOrEqual(w.read);
            expect(w.delivered).toBeLessThanOrEqual(lastSeq);
            expect(w.read).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });

  it('ends at the highest acked seq per status, independent of ack order', () => {
    fc.assert(
      fc.property(
        fc.array(ack, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 1500 }),
        (acks, lastSeq) => {
          const clamp = (s: number) => Math.max(0, Math.min(s, lastSeq));
          const forward = replay(acks, lastSeq).pop()!;
          const backward = replay([...acks].reverse(), lastSeq).pop()!;
          expect(forward).toEqual(backward);
          const maxRead = Math.max(
            0,
            ...acks.filter((a) => a.status === 'read').map((a) => clamp(a.seq)),
          );
          const maxAny = Math.max(0, ...acks.map((a) => clamp(a.seq)));
          expect(forward.read).toBe(maxRead);
          expect(forward.delivered).toBe(maxAny);
        },
      ),
    );
  });

  it('reports a message read only when read receipts are shown', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        (seq, read, extra, showRead) => {
          const marks = { read, delivered: read + extra };
          const s = statusFor(seq, marks, showRead);
          if (s === 'read') expect(showRead && read >= seq).toBe(true);
          if (s === 'delivered')
            expect(marks.delivered >= seq && !(showRead && read >= seq)).toBe(true);
          if (s === 'sent') expect(marks.delivered).toBeLessThan(seq);
        },
      ),
    );
  });
});
