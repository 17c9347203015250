import { Injectable } from '@nestjs/common';
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
  private readonly pending: Array<(server: Server) => void> = [];

  attach(server: Server): void {
    this.server = server;
    for (const fn of this.pending.splice(0)) fn(server);
  }

  get isAttached(): boolean {
    return !!this.server;
  }

  toUsers<E extends ServerEventName>(
    userIds: readonly string[],
    event: E,
    payload: ServerToClientEvents[E],
    options: EmitOptions = {},
  ): void {
    const server = this.server;
    if (!server) return;
    const skip = options.exceptUserIds?.length ? new Set(options.exceptUserIds) : undefined;
    const rooms: string[] = [];
    for (const id of userIds) if (!skip?.has(id)) rooms.push(userRoom(id));
    if (!rooms.length) return;
    let target = server.to(rooms);
    if (options.exceptSocketId) target = target.except(options.exceptSocketId);
    target.emit(event, payload);
  }

  toDevice<E extends ServerEventName>(
    deviceId: string,
    event: E,
    payload: ServerToClientEvents[E],
  ): void {
    this.server?.to(deviceRoom(deviceId)).emit(event, payload);
  }

  /** Disconnects every socket of a device, on any instance. */
  disconnectDevice(
    deviceId: string,
    reason: ServerToClientEvents['session:revoked']['reason'],
  ): void {
    const server = this.server;
    if (!server) return;
    server.to(deviceRoom(deviceId)).emit('session:revoked', { deviceId, reason });
    server.in(deviceRoom(deviceId)).disconnectSockets(true);
  }

  /** Local sockets only: used when this instance drains. */
  broadcastLocal<E extends ServerEventName>(event: E, payload: ServerToClientEvents[E]): void {
    this.server?.local.emit(event, payload);
  }
}
