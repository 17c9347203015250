import type { Membership } from './conversation';
import type { StoredMessage } from './message';

/**
 * Whether a user can read a message: they were a member when it was sent (and had not left
 * before it), it is not withheld from them by a block, and it has not expired.
 */
export function canRead(
  userId: string,
  message: StoredMessage,
  membership: Membership | null,
  now: Date,
): boolean {
  if (!membership || message.withheldFrom === userId) return false;
  if (message.expiresAt && message.expiresAt <= now) return false;
  return (
    message.seq > membership.joinedSeq &&
    (membership.leftSeq === null || message.seq <= membership.leftSeq)
  );
}
