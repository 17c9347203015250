import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections } from '../../common/redis/redis.connections';
import { AuthRepository } from './ports/auth.repository';

const TTL_MS = 60_000;
const MAX_ENTRIES = 200_000;

/**
 * The owner of each active device, cached so that a socket handshake or an API call
 * reads no device row. Only active devices are cached, and a device is never un-revoked,
 * so the one change that matters is a revocation: it drops the entry here and, through
 * Redis pub/sub, on every other instance, and marks the device revoked so that a load
 * racing with the revocation is not kept. The TTL bounds staleness should a notice be lost.
 */
@Injectable()
export class DeviceCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeviceCache.name);
  private readonly owners = new Map<string, { userId: string; loadedAt: number }>();
  /** Devices revoked while this instance ran (bounded): never cached again. */
  private readonly revoked = new Set<string>();
  private subscriber?: Redis;

  private get channel(): string {
    return `${this.redis.keyPrefix}:devices:revoked`;
  }

  constructor(
    private readonly repo: AuthRepository,
    private readonly redis: RedisConnections,
  ) {}

  /** The user of an active device; null if it does not exist or was revoked. */
  async activeOwner(deviceId: string): Promise<string | null> {
    const entry = this.owners.get(deviceId);
    if (entry && Date.now() - entry.loadedAt < TTL_MS) return entry.userId;
    const device = await this.repo.findDevice(deviceId);
    if (!device || device.revokedAt) return null;
    this.remember(deviceId, device.userId);
    return device.userId;
  }

  /** Call with a device just read or written as active (a sign-in): its first connect reads nothing. */
  remember(deviceId: string, userId: string): void {
    if (this.revoked.has(deviceId)) return;
    this.owners.delete(deviceId);
    this.owners.set(deviceId, { userId, loadedAt: Date.now() });
    if (this.owners.size > MAX_ENTRIES) this.owners.delete(this.owners.keys().next().value!);
  }

  /** Call once the revocation is stored, before the device's sockets are kicked. */
  async revokedNow(deviceId: string): Promise<void> {
    this.forget(deviceId);
    if (this.redis.enabled) await this.redis.client.publish(this.channel, deviceId);
  }

  private forget(deviceId: string): void {
    this.owners.delete(deviceId);
    this.revoked.add(deviceId);
    if (this.revoked.size > MAX_ENTRIES) this.revoked.delete(this.revoked.values().next().value!);
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis.enabled) return;
    this.subscriber = this.redis.create('devices-sub');
    this.subscriber.on('message', (_channel: string, deviceId: string) => this.forget(deviceId));
    await this.subscriber
      .subscribe(this.channel)
      .catch((error: unknown) => this.logger.warn(error));
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.unsubscribe().catch(() => undefined);
  }
}
