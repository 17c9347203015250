import type { ReceiptStatus } from './conversation';

export interface Watermarks {
  delivered: number;
  read: number;
}

/**
 * The receipt rules in one place: an ack covers every seq up to its own, clamped to the
 * conversation's last seq; watermarks never move backwards; read implies delivered.
 */
export function applyAck(
  current: Watermarks,
  seq: number,
  status: ReceiptStatus,
  lastSeq: number,
): Watermarks {
  const target = Math.max(0, Math.min(seq, lastSeq));
  const read = status === 'read' ? Math.max(current.read, target) : current.read;
  const delivered = Math.max(current.delivered, target, read);
  return { delivered, read };
}

/** The status a member has for one message, given their watermarks. */
export function statusFor(
  seq: number,
  marks: Watermarks,
  showRead: boolean,
): 'sent' | 'delivered' | 'read' {
  if (showRead && marks.read >= seq) return 'read';
  if (marks.delivered >= seq) return 'delivered';
  return 'sent';
}
