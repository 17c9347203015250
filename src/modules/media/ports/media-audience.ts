/**
 * What media needs to know about conversations, answered by the chat module (which owns
 * messages and memberships). Media cannot import the chat module (chat imports media to
 * check attachments), so chat hands an implementation to MediaAudienceRegistry at startup.
 */
export abstract class MediaAudience {
  /**
   * Of the given messages, those the user can see: a member of the conversation when it
   * was sent (and not removed before), and not withheld from them by a block.
   */
  abstract visibleMessageIds(userId: string, messageIds: readonly string[]): Promise<Set<string>>;

  /** Users who currently see these messages (present members, not withheld); for media:ready. */
  abstract audienceOf(messageIds: readonly string[]): Promise<string[]>;
}

/**
 * Holds the MediaAudience that the chat module registers. Until one is registered only
 * the uploader can use a media, which is also the truth while nothing was shared.
 */
export class MediaAudienceRegistry extends MediaAudience {
  private audience?: MediaAudience;

  register(audience: MediaAudience): void {
    if (this.audience) throw new Error('A MediaAudience is registered already');
    this.audience = audience;
  }

  async visibleMessageIds(userId: string, messageIds: readonly string[]): Promise<Set<string>> {
    if (!this.audience || !messageIds.length) return new Set();
    return this.audience.visibleMessageIds(userId, messageIds);
  }

  async audienceOf(messageIds: readonly string[]): Promise<string[]> {
    if (!this.audience || !messageIds.length) return [];
    return this.audience.audienceOf(messageIds);
  }
}
