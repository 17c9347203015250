import { Injectable } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import type { Socket } from 'socket.io';
import type { AuthContext } from '../auth/auth-context';

export interface SocketContext extends AuthContext {
  socket: Socket;
}

export type SocketEventHandler<T> = (ctx: SocketContext, payload: T) => Promise<object | void>;

export interface SocketEventDefinition<T extends object = object> {
  /** DTO class validating the payload; omit for events without a payload. */
  dto?: ClassConstructor<T>;
  /** Custom validation for hot events, replacing the DTO path. */
  parse?: (payload: unknown) => T;
  handler: SocketEventHandler<T>;
}

/**
 * Client-to-server events, registered by each module's gateway. The realtime gateway
 * dispatches them, validates payloads and turns every outcome into an ack.
 */
@Injectable()
export class SocketEventRegistry {
  private readonly handlers = new Map<string, SocketEventDefinition>();

  register<T extends object>(event: string, definition: SocketEventDefinition<T>): void {
    if (this.handlers.has(event)) throw new Error(`Socket event ${event} registered twice`);
    this.handlers.set(event, definition as unknown as SocketEventDefinition);
  }

  get(event: string): SocketEventDefinition | undefined {
    return this.handlers.get(event);
  }

  get events(): string[] {
    return [...this.handlers.keys()];
  }
}
