import { Global, Module } from '@nestjs/common';
import { RealtimeEmitter } from './realtime.emitter';
import { RedisEmitterBinder } from './redis-emitter.binder';
import { SocketEventRegistry } from './socket-event.registry';
import { SocketLifecycle } from './socket-lifecycle';

/** Shared by every module: the typed emitter, the event registry and socket lifecycle hooks. */
@Global()
@Module({
  providers: [RealtimeEmitter, SocketEventRegistry, SocketLifecycle, RedisEmitterBinder],
  exports: [RealtimeEmitter, SocketEventRegistry, SocketLifecycle],
})
export class RealtimeModule {}
