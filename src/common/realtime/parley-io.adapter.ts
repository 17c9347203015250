import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.connections';

/**
 * Socket.IO server settings in one place: frame limit well above the 64 KiB message body,
 * and the Redis adapter when REDIS_URL is set so broadcasts reach every instance.
 */
export class ParleyIoAdapter extends IoAdapter {
  private readonly redisClients: Redis[] = [];

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const config = this.app.get(AppConfig);
    const redis = this.app.get(RedisConnections);
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: config.realtime.maxPayloadBytes,
      cors: { origin: config.http.corsOrigin === '*' ? true : config.http.corsOrigin.split(',') },
      pingInterval: 25000,
      pingTimeout: 20000,
      connectionStateRecovery: undefined,
    }) as Server;
    if (redis.enabled && config.redis.url) {
      // Owned here, not by RedisConnections: they must outlive the Socket.IO server's close.
      const pub = new Redis(config.redis.url, { connectionName: 'parley:io-pub' });
      const sub = pub.duplicate({ connectionName: 'parley:io-sub' });
      for (const c of [pub, sub]) c.on('error', () => undefined);
      this.redisClients.push(pub, sub);
      server.adapter(createAdapter(pub, sub, { key: `${config.redis.keyPrefix}:socket.io` }));
    }
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.redisClients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  }
}
