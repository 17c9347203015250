import { Injectable, Logger } from '@nestjs/common';
import type { SocketContext } from './socket-event.registry';

type Listener = (ctx: SocketContext) => void | Promise<void>;

/** Lets modules (presence, calls) react to sockets coming and going without owning the gateway. */
@Injectable()
export class SocketLifecycle {
  private readonly logger = new Logger(SocketLifecycle.name);
  private readonly onConnect: Listener[] = [];
  private readonly onDisconnect: Listener[] = [];

  onConnected(listener: Listener): void {
    this.onConnect.push(listener);
  }

  onDisconnected(listener: Listener): void {
    this.onDisconnect.push(listener);
  }

  connected(ctx: SocketContext): void {
    for (const l of this.onConnect) this.run(l, ctx);
  }

  disconnected(ctx: SocketContext): void {
    for (const l of this.onDisconnect) this.run(l, ctx);
  }

  private run(listener: Listener, ctx: SocketContext): void {
    try {
      const result = listener(ctx);
      if (result) result.catch((error: unknown) => this.logger.error(error));
    } catch (error) {
      this.logger.error(error);
    }
  }
}
