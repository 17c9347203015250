import { laterOf, type PresenceView, type RawPresence } from './presence';

/** One connection watching one user. */
export interface Watch {
  connectionId: string;
  viewerId: string;
  targetId: string;
  /**
   * False while the subscribe that created it is still reading the initial state: its ack
   * will carry that state, so changes are not pushed to it yet.
   */
  active: boolean;
  /** The last view this connection was given (ack or event); changes are pushed against it. */
  sent: PresenceView | null;
}

interface Target {
  raw: RawPresence;
  /** Version of `raw.online`; -1 until a state was read or heard. */
  version: number;
  watches: Map<string, Watch>;
}

interface Connection {
  viewerId: string;
  targets: Set<string>;
}

/**
 * The presence subscriptions held by this instance's connections, and the latest known
 * presence of each watched user. Pure bookkeeping: no I/O, no privacy.
 *
 * Presence reaches an instance two ways, a read (subscribe) and the change feed, in either
 * order; keeping the state with the highest version makes both orders end the same.
 */
export class PresenceWatchers {
  private readonly targets = new Map<string, Target>();
  private readonly connections = new Map<string, Connection>();
  private readonly connectionsByViewer = new Map<string, Set<string>>();

  /** How many users the connection watches. */
  watchedBy(connectionId: string): number {
    return this.connections.get(connectionId)?.targets.size ?? 0;
  }

  /** Whether the connection already watches the user. */
  isWatching(connectionId: string, targetId: string): boolean {
    return this.connections.get(connectionId)?.targets.has(targetId) ?? false;
  }

  isWatched(targetId: string): boolean {
    return this.targets.has(targetId);
  }

  /** Registers inactive watches (existing ones are kept as they are). */
  add(connectionId: string, viewerId: string, targetIds: Iterable<string>): void {
    let connection = this.connections.get(connectionId);
    if (!connection) {
      connection = { viewerId, targets: new Set() };
      this.connections.set(connectionId, connection);
      let ofViewer = this.connectionsByViewer.get(viewerId);
      if (!ofViewer) {
        ofViewer = new Set();
        this.connectionsByViewer.set(viewerId, ofViewer);
      }
      ofViewer.add(connectionId);
    }
    for (const targetId of targetIds) {
      if (connection.targets.has(targetId)) continue;
      connection.targets.add(targetId);
      let target = this.targets.get(targetId);
      if (!target) {
        target = { raw: { online: false, lastSeen: null }, version: -1, watches: new Map() };
        this.targets.set(targetId, target);
      }
      target.watches.set(connectionId, {
        connectionId,
        viewerId,
        targetId,
        active: false,
        sent: null,
      });
    }
  }

  remove(connectionId: string, targetIds: Iterable<string>): void {
    const connection = this.connections.get(connectionId);
    if (!connection) return;
    for (const targetId of targetIds) {
      if (!connection.targets.delete(targetId)) continue;
      const target = this.targets.get(targetId);
      target?.watches.delete(connectionId);
      if (target && !target.watches.size) this.targets.delete(targetId);
    }
    if (!connection.targets.size) this.forgetConnection(connectionId, connection);
  }

  removeConnection(connectionId: string): void {
    const connection = this.connections.get(connectionId);
    if (connection) this.remove(connectionId, [...connection.targets]);
  }

  /** Takes the online state if it is newer than the one known. False if nobody watches. */
  applyState(targetId: string, online: boolean, version: number): boolean {
    const target = this.targets.get(targetId);
    if (!target) return false;
    if (version > target.version) {
      target.version = version;
      target.raw = { ...target.raw, online };
    }
    return true;
  }

  /** Last seen only moves forward, whatever the order it is heard in. */
  noteLastSeen(targetId: string, lastSeen: Date | null): void {
    const target = this.targets.get(targetId);
    if (target) target.raw = { ...target.raw, lastSeen: laterOf(target.raw.lastSeen, lastSeen) };
  }

  raw(targetId: string): RawPresence | undefined {
    return this.targets.get(targetId)?.raw;
  }

  /** Starts pushing changes to the watch, which has just been given `sent`. */
  activate(connectionId: string, targetId: string, sent: PresenceView): void {
    const watch = this.targets.get(targetId)?.watches.get(connectionId);
    if (!watch) return;
    watch.active = true;
    watch.sent = sent;
  }

  markSent(connectionId: string, targetId: string, sent: PresenceView): void {
    const watch = this.targets.get(targetId)?.watches.get(connectionId);
    if (watch) watch.sent = sent;
  }

  activeWatchesOf(targetId: string): Watch[] {
    const target = this.targets.get(targetId);
    if (!target) return [];
    return [...target.watches.values()].filter((w) => w.active);
  }

  /** Every user watched by any of this viewer's connections here. */
  watchedByViewer(viewerId: string): string[] {
    const out = new Set<string>();
    for (const connectionId of this.connectionsByViewer.get(viewerId) ?? []) {
      for (const targetId of this.connections.get(connectionId)?.targets ?? []) out.add(targetId);
    }
    return [...out];
  }

  private forgetConnection(connectionId: string, connection: Connection): void {
    this.connections.delete(connectionId);
    const ofViewer = this.connectionsByViewer.get(connection.viewerId);
    ofViewer?.delete(connectionId);
    if (ofViewer && !ofViewer.size) this.connectionsByViewer.delete(connection.viewerId);
  }
}
