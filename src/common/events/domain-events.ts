import { Injectable } from '@nestjs/common';

/** In-process events between modules; listeners are awaited so effects are done when publish returns. */
export interface DomainEventMap {
  'device.registered': { userId: string; deviceId: string };
  'device.revoked': { userId: string; deviceId: string };
  'user.privacy.changed': {
    userId: string;
    readReceipts: boolean;
    lastSeen: 'everyone' | 'contacts' | 'nobody';
  };
  /**
   * Who the user blocked, or whose phones are in their contacts, changed: what others may
   * see of them (presence) is to be decided again.
   */
  'user.relations.changed': { userId: string };
  /** New messages were stored in these conversations (one event per write batch). */
  'messages.stored': { conversationIds: string[] };
  /**
   * A call started ringing: the notifications module pushes it at once (VoIP) to the
   * callees' devices that have no connected socket.
   */
  'call.ringing': {
    callId: string;
    conversationId: string;
    callerId: string;
    callerDeviceId: string;
    media: 'audio' | 'video';
    calleeUserIds: string[];
  };
}

type Listener<E extends keyof DomainEventMap> = (
  payload: DomainEventMap[E],
) => Promise<void> | void;

@Injectable()
export class DomainEvents {
  private readonly listeners = new Map<keyof DomainEventMap, Listener<keyof DomainEventMap>[]>();

  on<E extends keyof DomainEventMap>(event: E, listener: Listener<E>): void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<keyof DomainEventMap>);
    this.listeners.set(event, list);
  }

  async publish<E extends keyof DomainEventMap>(
    event: E,
    payload: DomainEventMap[E],
  ): Promise<void> {
    for (const listener of this.listeners.get(event) ?? []) await listener(payload);
  }
}
