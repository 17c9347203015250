import { Injectable } from '@nestjs/common';
import { ConversationRepository, type Audience } from './ports/conversation.repository';

const MAX_CONVERSATIONS = 50_000;
const MAX_DIRECT_PAIRS = 200_000;

/**
 * Member lists for fan-out and direct-conversation ids, kept in memory so that a send
 * reads nothing outside its write transaction. Entries are checked against the
 * membership version that the send's transaction read under the row lock: a stale list
 * is never used to deliver a message. Direct conversations never change membership.
 */
@Injectable()
export class AudienceCache {
  private readonly audiences = new Map<string, Audience>();
  private readonly directIds = new Map<string, string>();

  constructor(private readonly conversations: ConversationRepository) {}

  /** The cached audience, loading it if missing; null if the conversation does not exist. */
  async get(conversationId: string): Promise<Audience | null> {
    return this.audiences.get(conversationId) ?? this.load(conversationId);
  }

  /** The audience in force at `membersVersion` (or newer), reloading a stale entry. */
  async atVersion(conversationId: string, membersVersion: number): Promise<Audience | null> {
    const cached = this.audiences.get(conversationId);
    if (cached && cached.membersVersion >= membersVersion) return cached;
    return this.load(conversationId);
  }

  directId(userA: string, userB: string): string | undefined {
    return this.directIds.get(pairKey(userA, userB));
  }

  rememberDirect(userA: string, userB: string, conversationId: string): void {
    remember(this.directIds, pairKey(userA, userB), conversationId, MAX_DIRECT_PAIRS);
  }

  private async load(conversationId: string): Promise<Audience | null> {
    const audience = await this.conversations.audience(conversationId);
    if (audience) {
      const current = this.audiences.get(conversationId);
      // A slower load must not replace a newer list.
      if (!current || current.membersVersion <= audience.membersVersion) {
        remember(this.audiences, conversationId, audience, MAX_CONVERSATIONS);
      }
    }
    return audience;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** Insert-ordered map used as a simple LRU-ish bound: re-inserting refreshes, the oldest go first. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
