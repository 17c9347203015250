import { Injectable, OnModuleInit } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.connections';
import { RealtimeEmitter } from './realtime.emitter';

/**
 * A worker process runs no Socket.IO server; its events (e.g. media:ready) are published
 * through Redis with the Socket.IO Redis emitter and delivered by the API instances.
 */
@Injectable()
export class RedisEmitterBinder implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    private readonly emitter: RealtimeEmitter,
  ) {}

  onModuleInit(): void {
    if (this.config.runsApi || !this.redis.enabled) return;
    this.emitter.attachRedisEmitter(
      new Emitter(this.redis.create('emitter'), { key: `${this.redis.keyPrefix}:socket.io` }),
    );
  }
}
