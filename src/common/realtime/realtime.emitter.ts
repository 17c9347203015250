import { Injectable } from '@nestjs/common';
import type { Emitter } from '@socket.io/redis-emitter';
import type { Server } from 'socket.io';
import { deviceRoom, userRoom } from './rooms';
import type { ServerEventName, ServerToClientEvents } from './socket-events';

export interface EmitOptions {
  /** A socket id that must not receive the event (the sender's own socket). */
  exceptSocketId?: string;
  /** Users whose rooms are skipped (e.g. a recipient who blocked the sender). */
  exceptUserIds?: readonly string[];
}

/**
 * The one way modules send events to clients. Events are addressed to user or device
 * rooms, so with the Redis adapter they reach sockets on every instance; each broadcast
 * is serialized once by Socket.IO whatever the number of recipients.
 */
@Injectable()
export class RealtimeEmitter {
  private server?: Server;

  /** Worker processes have no Socket.IO server: they publish through Redis instead. */
  private remote?: Emitter;

  attach(server: Server): void {
    this.server = server;
  }

  attachRedisEmitter(emitter: Emitter): void {
    this.remote = emitter;
  }

  toUsers<E extends ServerEventName>(
    userIds: readonly string[],
    event: E,
    payload: ServerToClientEvents[E],
    options: EmitOptions = {},
  ): void {
    const skip = options.exceptUserIds?.length ? new Set(options.exceptUserIds) : undefined;
    const rooms: string[] = [];
    for (const id of userIds) if (!skip?.has(id)) rooms.push(userRoom(id));
    if (!rooms.length) return;
    if (this.server) {
      let target = this.server.to(rooms);
      if (options.exceptSocketId) target = target.except(options.exceptSocketId);
      target.emit(event, payload);
    } else if (this.remote) {
      let target = this.remote.to(rooms);
      if (options.exceptSocketId) target = target.except(options.exceptSocketId);
      target.emit(event, payload);
    }
  }

  toDevice<E extends ServerEventName>(
    deviceId: string,
    event: E,
    payload: ServerToClientEvents[E],
  ): void {
    if (this.server) this.server.to(deviceRoom(deviceId)).emit(event, payload);
    else this.remote?.to(deviceRoom(deviceId)).emit(event, payload);
  }

  /**
   * Whether a device has a connected socket on any instance (with the Redis adapter the
   * other instances answer too). False in worker processes, which hold no sockets.
   */
  async isDeviceConnected(deviceId: string): Promise<boolean> {
    if (!this.server) return false;
    return (await this.server.in(deviceRoom(deviceId)).fetchSockets()).length > 0;
  }

  /** Disconnects every socket of a device, on any instance. */
  disconnectDevice(
    deviceId: string,
    reason: ServerToClientEvents['session:revoked']['reason'],
  ): void {
    const target = this.server ?? this.remote;
    if (!target) return;
    target.to(deviceRoom(deviceId)).emit('session:revoked', { deviceId, reason });
    target.in(deviceRoom(deviceId)).disconnectSockets(true);
  }

  /**
   * Sockets held by this instance, by socket id; serialized once for all of them. For
   * per-connection state that only this instance knows (e.g. presence subscriptions), so
   * nothing is published to other instances.
   */
  toLocalSockets<E extends ServerEventName>(
    socketIds: readonly string[],
    event: E,
    payload: ServerToClientEvents[E],
  ): void {
    if (!socketIds.length) return;
    this.server?.local.to([...socketIds]).emit(event, payload);
  }

  /** Local sockets only: used when this instance drains. */
  broadcastLocal<E extends ServerEventName>(event: E, payload: ServerToClientEvents[E]): void {
    this.server?.local.emit(event, payload);
  }
}
