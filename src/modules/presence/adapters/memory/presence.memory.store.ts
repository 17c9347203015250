import { Injectable } from '@nestjs/common';
import { nextVersion } from '../../domain/presence';
import {
  PresenceStore,
  type ConnectionRef,
  type OfflineTransition,
  type PresenceChange,
  type PresenceListener,
  type PresenceState,
} from '../../ports/presence.store';

export interface PresenceMemoryStoreOptions {
  /** How long an instance stays alive without a heartbeat. */
  ttlMs: number;
}

interface UserPresence {
  online: boolean;
  version: number;
}

interface InstanceLiveness {
  lastBeatAt: number;
  aliveUntil: number;
}

const connectionKey = (userId: string, connectionId: string): string => `${userId} ${connectionId}`;

/**
 * The embedded default: one process holds every connection, so presence is a few maps.
 * It keeps the same instance and grace bookkeeping as the Redis adapter so that both pass
 * one contract suite and the service never needs to know which one it talks to.
 */
@Injectable()
export class PresenceMemoryStore extends PresenceStore {
  /** userId -> connectionId -> its instance and device */
  private readonly connections = new Map<
    string,
    Map<string, { instanceId: string; deviceId: string }>
  >();
  /** instanceId -> "userId connectionId" keys, to reap or remove an instance at once. */
  private readonly byInstance = new Map<string, Set<string>>();
  private readonly instances = new Map<string, InstanceLiveness>();
  private readonly users = new Map<string, UserPresence>();
  /** Users with no connection left, and since when. */
  private readonly gone = new Map<string, number>();
  private readonly listeners = new Set<PresenceListener>();

  constructor(private readonly options: PresenceMemoryStoreOptions) {
    super();
  }

  async connect(ref: ConnectionRef, now: number): Promise<boolean> {
    let mine = this.connections.get(ref.userId);
    if (!mine) {
      mine = new Map();
      this.connections.set(ref.userId, mine);
    }
    mine.set(ref.connectionId, { instanceId: ref.instanceId, deviceId: ref.deviceId });
    this.instanceSet(ref.instanceId).add(connectionKey(ref.userId, ref.connectionId));
    this.gone.delete(ref.userId);
    const user = this.users.get(ref.userId);
    if (user?.online) return false;
    const version = nextVersion(user?.version ?? 0, now);
    this.users.set(ref.userId, { online: true, version });
    this.publish({ kind: 'online', userId: ref.userId, version });
    return true;
  }

  async disconnect(ref: ConnectionRef, now: number): Promise<boolean> {
    this.byInstance.get(ref.instanceId)?.delete(connectionKey(ref.userId, ref.connectionId));
    return this.dropConnection(ref.userId, ref.connectionId, now);
  }

  async heartbeat(instanceId: string, now: number): Promise<boolean> {
    const known = this.instances.has(instanceId);
    this.instances.set(instanceId, { lastBeatAt: now, aliveUntil: now + this.options.ttlMs });
    return known;
  }

  async reapDeadInstances(now: number): Promise<number> {
    let reaped = 0;
    for (const [instanceId, liveness] of this.instances) {
      if (liveness.aliveUntil > now) continue;
      this.instances.delete(instanceId);
      this.dropInstanceConnections(instanceId, liveness.lastBeatAt);
      reaped += 1;
    }
    return reaped;
  }

  async settle(
    now: number,
    graceMs: number,
    userIds?: readonly string[],
  ): Promise<OfflineTransition[]> {
    const cutoff = now - graceMs;
    const transitions: OfflineTransition[] = [];
    for (const userId of userIds ?? [...this.gone.keys()]) {
      const goneAt = this.gone.get(userId);
      if (goneAt === undefined || goneAt > cutoff) continue;
      this.gone.delete(userId);
      const user = this.users.get(userId);
      if (this.connections.has(userId) || !user?.online) continue;
      const version = nextVersion(user.version, now);
      this.users.set(userId, { online: false, version });
      const lastSeen = new Date(goneAt);
      transitions.push({ userId, lastSeen, version });
      this.publish({ kind: 'offline', userId, version, lastSeen });
    }
    return transitions;
  }

  async removeInstance(instanceId: string, now: number): Promise<string[]> {
    this.instances.delete(instanceId);
    return this.dropInstanceConnections(instanceId, now);
  }

  async states(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    for (const userId of userIds) {
      const user = this.users.get(userId);
      out.set(userId, { online: user?.online ?? false, version: user?.version ?? 0 });
    }
    return out;
  }

  async connectedDevices(userIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const userId of userIds)
      for (const conn of this.connections.get(userId)?.values() ?? []) out.add(conn.deviceId);
    return out;
  }

  async announceRefresh(userId: string): Promise<void> {
    this.publish({ kind: 'refresh', userId });
  }

  async subscribe(listener: PresenceListener): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    return async () => {
      this.listeners.delete(listener);
    };
  }

  private instanceSet(instanceId: string): Set<string> {
    let set = this.byInstance.get(instanceId);
    if (!set) {
      set = new Set();
      this.byInstance.set(instanceId, set);
    }
    return set;
  }

  /** Removes one connection; true when it was the user's last (the user is now gone). */
  private dropConnection(userId: string, connectionId: string, goneAt: number): boolean {
    const mine = this.connections.get(userId);
    if (!mine?.delete(connectionId)) return false;
    if (mine.size > 0) return false;
    this.connections.delete(userId);
    this.gone.set(userId, goneAt);
    return true;
  }

  private dropInstanceConnections(instanceId: string, goneAt: number): string[] {
    const emptied: string[] = [];
    for (const key of this.byInstance.get(instanceId) ?? []) {
      const space = key.indexOf(' ');
      const userId = key.slice(0, space);
      if (this.dropConnection(userId, key.slice(space + 1), goneAt)) emptied.push(userId);
    }
    this.byInstance.delete(instanceId);
    return emptied;
  }

  /** Delivered asynchronously, in order, like a message through Redis. */
  private publish(change: PresenceChange): void {
    for (const listener of this.listeners) queueMicrotask(() => listener(change));
  }
}
