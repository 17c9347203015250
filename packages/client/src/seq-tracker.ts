/** A run of seqs a conversation is missing: from `afterSeq + 1` to `toSeq - 1`. */
export interface Gap {
  conversationId: string;
  afterSeq: number;
  toSeq: number;
}

interface ConversationSeqs {
  /** Every seq up to this one was seen (or predates this device). */
  contiguous: number;
  /** Seen seqs above `contiguous`. */
  above: Set<number>;
}

/**
 * What this client has seen of each conversation's gapless seq stream: drops duplicates
 * (a message arriving live and again through sync or a history fill) and finds gaps, so
 * that a delivered ack never covers a message this client did not get.
 */
export class SeqTracker {
  private readonly conversations = new Map<string, ConversationSeqs>();

  /** Everything up to `seq` is known (e.g. `lastSeq` from the conversation list). */
  baseline(conversationId: string, seq: number): void {
    const c = this.conversations.get(conversationId);
    if (!c) {
      this.conversations.set(conversationId, { contiguous: seq, above: new Set() });
      return;
    }
    if (seq > c.contiguous) {
      c.contiguous = seq;
      this.compact(c);
    }
  }

  /**
   * Records a seq; false when it was seen before. The first seq of a conversation this
   * client never saw starts it, since the device's history may start there.
   */
  see(conversationId: string, seq: number): boolean {
    const c = this.conversations.get(conversationId);
    if (!c) {
      this.conversations.set(conversationId, { contiguous: seq, above: new Set() });
      return true;
    }
    if (seq <= c.contiguous || c.above.has(seq)) return false;
    c.above.add(seq);
    this.compact(c);
    return true;
  }

  /** The highest seq up to which nothing is missing. */
  contiguous(conversationId: string): number {
    return this.conversations.get(conversationId)?.contiguous ?? 0;
  }

  /** The first gap, if any seq above the contiguous run was seen. */
  gap(conversationId: string): Gap | undefined {
    const c = this.conversations.get(conversationId);
    if (!c || c.above.size === 0) return undefined;
    return { conversationId, afterSeq: c.contiguous, toSeq: Math.min(...c.above) };
  }

  private compact(c: ConversationSeqs): void {
    while (c.above.delete(c.contiguous + 1)) c.contiguous += 1;
    for (const seq of c.above) if (seq <= c.contiguous) c.above.delete(seq);
  }
}
