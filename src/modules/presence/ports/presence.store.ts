/** One Socket.IO connection of a user, held by one server instance. */
export interface ConnectionRef {
  instanceId: string;
  userId: string;
  /** The signed-in device the connection belongs to. */
  deviceId: string;
  connectionId: string;
}

/** The announced presence of a user as the store sees it (not yet filtered by privacy). */
export interface PresenceState {
  online: boolean;
  /**
   * Grows with every announced change of this user (0: never seen). Lets an instance tell a
   * state it read from one that reached it later through the change feed.
   */
  version: number;
}

/** A user the store has just declared offline; the caller stores `lastSeen` durably. */
export interface OfflineTransition {
  userId: string;
  lastSeen: Date;
  version: number;
}

/** What every instance hears about, its own changes included. */
export type PresenceChange =
  | { kind: 'online'; userId: string; version: number }
  | { kind: 'offline'; userId: string; version: number; lastSeen: Date }
  /** Something that changes what viewers may see of this user (e.g. a privacy setting). */
  | { kind: 'refresh'; userId: string };

export type PresenceListener = (change: PresenceChange) => void;

/**
 * Who is connected, cluster-wide. Connections are grouped by the instance holding them;
 * instances prove they are alive with heartbeats, so the connections of an instance that
 * stops (crash, partition) are reaped by the survivors without anyone disconnecting them.
 *
 * Announced presence is separate from the raw connections: a user whose last connection
 * went away stays announced online until `settle` finds them gone for a grace period, so a
 * quick reconnect changes nothing. Every announced change is published, exactly once, to
 * every subscriber on every instance (the store's change feed).
 */
export abstract class PresenceStore {
  /** Records a connection. True when this announced the user online (they were offline). */
  abstract connect(ref: ConnectionRef, now: number): Promise<boolean>;

  /**
   * Forgets a connection. True when it was the user's last one anywhere: the grace period
   * starts now, and `settle` may declare the user offline once it has passed.
   */
  abstract disconnect(ref: ConnectionRef, now: number): Promise<boolean>;

  /**
   * Keeps the instance's connections alive for the store's TTL. False when the store did
   * not know the instance (first beat, store data lost, or reaped after a long stall): the
   * caller then registers its live connections again.
   */
  abstract heartbeat(instanceId: string, now: number): Promise<boolean>;

  /**
   * Drops the connections of instances whose heartbeat expired; their users who are left
   * with none count as gone since that instance's last heartbeat. Returns how many
   * instances were reaped.
   */
  abstract reapDeadInstances(now: number): Promise<number>;

  /**
   * Declares offline, and publishes, every user (or each of `userIds`) who has had no
   * connection for at least `graceMs`. Each transition is returned to exactly one caller
   * cluster-wide, which writes its lastSeen.
   */
  abstract settle(
    now: number,
    graceMs: number,
    userIds?: readonly string[],
  ): Promise<OfflineTransition[]>;

  /**
   * Graceful shutdown of an instance: forgets it and its connections. Returns the users left
   * with no connection; they stay announced online until another instance settles them,
   * so clients that reconnect elsewhere within the grace period do not flap.
   */
  abstract removeInstance(instanceId: string, now: number): Promise<string[]>;

  /** Announced presence of each user (offline, version 0 when never seen). */
  abstract states(userIds: readonly string[]): Promise<Map<string, PresenceState>>;

  /**
   * Which devices of these users have a live connection on any instance (push skips them).
   * A reaped instance's connections no longer count.
   */
  abstract connectedDevices(userIds: readonly string[]): Promise<Set<string>>;

  /** Publishes a `refresh` for the user to every instance. */
  abstract announceRefresh(userId: string): Promise<void>;

  /**
   * Listens to the change feed. Resolves once the listener is live; the returned function
   * stops it.
   */
  abstract subscribe(listener: PresenceListener): Promise<() => Promise<void>>;
}
