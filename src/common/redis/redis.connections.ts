import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { MetricsRegistry } from '../metrics/metrics.registry';

/**
 * Redis connections, made only when REDIS_URL is set. Subscriber connections are separate
 * because a connection in subscribe mode cannot run other commands.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly all: Redis[] = [];
  private shared?: Redis;

  constructor(
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    metrics.gauge(
      'parley_redis_connections_ready',
      'Redis connections of this process that are ready, by state (1 = ready)',
      ['connection'],
      (gauge) => {
        gauge.reset();
        for (const r of this.all)
          gauge.set({ connection: r.options.connectionName ?? '' }, r.status === 'ready' ? 1 : 0);
      },
    );
  }

  /** Namespaces every key, channel and queue, so deployments can share one Redis. */
  get keyPrefix(): string {
    return this.config.redis.keyPrefix;
  }

  get enabled(): boolean {
    return !!this.config.redis.url;
  }

  /** The shared command connection. */
  get client(): Redis {
    this.shared ??= this.create('shared');
    return this.shared;
  }

  /** A new dedicated connection (pub/sub, blocking commands, BullMQ). */
  create(name: string, options: { maxRetriesPerRequest?: number | null } = {}): Redis {
    const url = this.config.redis.url;
    if (!url) throw new Error('REDIS_URL is not set');
    const redis = new Redis(url, {
      connectionName: `parley:${name}`,
      maxRetriesPerRequest:
        options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest,
      enableAutoPipelining: true,
    });
    redis.on('error', (error: Error) => this.logger.warn(`redis ${name}: ${error.message}`));
    this.all.push(redis);
    return redis;
  }

  async ping(): Promise<void> {
    if (!this.enabled) return;
    await this.client.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all.map((r) => r.quit().catch(() => r.disconnect())));
  }
}
