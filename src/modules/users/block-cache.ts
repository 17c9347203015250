import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections } from '../../common/redis/redis.connections';
import { UserRepository } from './ports/user.repository';

const TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;

/**
 * Who each user blocked, cached so that a direct send needs no block query. A change
 * drops the blocker's entry here at once and, through Redis pub/sub, on every other
 * instance; the TTL bounds staleness should a notice be lost.
 */
@Injectable()
export class BlockCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BlockCache.name);
  private readonly entries = new Map<string, { blocked: Set<string>; loadedAt: number }>();
  /** Bumped on every invalidation, so a load that raced with a change is not kept. */
  private readonly generations = new Map<string, number>();
  private subscriber?: Redis;

  private get channel(): string {
    return `${this.redis.keyPrefix}:blocks:changed`;
  }

  constructor(
    private readonly users: UserRepository,
    private readonly redis: RedisConnections,
  ) {}

  async isBlocked(blockerId: string, blockedId: string): Promise<boolean> {
    const entry = this.entries.get(blockerId);
    if (entry && Date.now() - entry.loadedAt < TTL_MS) return entry.blocked.has(blockedId);
    const generation = this.generations.get(blockerId) ?? 0;
    const blocked = new Set(await this.users.listBlocked(blockerId));
    if ((this.generations.get(blockerId) ?? 0) === generation) {
      this.entries.delete(blockerId);
      this.entries.set(blockerId, { blocked, loadedAt: Date.now() });
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    return blocked.has(blockedId);
  }

  /** Call after the blocker's list changed. */
  async changed(blockerId: string): Promise<void> {
    this.forget(blockerId);
    if (this.redis.enabled) await this.redis.client.publish(this.channel, blockerId);
  }

  private forget(blockerId: string): void {
    this.entries.delete(blockerId);
    this.generations.set(blockerId, (this.generations.get(blockerId) ?? 0) + 1);
    if (this.generations.size > MAX_ENTRIES)
      this.generations.delete(this.generations.keys().next().value!);
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis.enabled) return;
    this.subscriber = this.redis.create('blocks-sub');
    this.subscriber.on('message', (_channel: string, blockerId: string) => this.forget(blockerId));
    await this.subscriber
      .subscribe(this.channel)
      .catch((error: unknown) => this.logger.warn(error));
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.unsubscribe().catch(() => undefined);
  }
}
