import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mapLimit, Semaphore } from '../../common/concurrency/semaphore';
import { AppConfig } from '../../common/config/app-config';
import { DomainEvents } from '../../common/events/domain-events';
import { AppError } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { SocketContext } from '../../common/realtime/socket-event.registry';
import { SocketLifecycle } from '../../common/realtime/socket-lifecycle';
import { ChatService } from '../chat/chat.service';
import type { User } from '../users/domain/user';
import { UsersService } from '../users/users.service';
import {
  hiddenPresence,
  isPresenceVisible,
  laterOf,
  presenceView,
  sameView,
  type PresenceView,
} from './domain/presence';
import { PresenceWatchers } from './domain/presence-watchers';
import { PresenceStore, type ConnectionRef, type PresenceChange } from './ports/presence.store';

/** Timers may fire a hair early; the store must find the grace period fully elapsed. */
const GRACE_SLACK_MS = 15;
/** Parallel per-user privacy lookups, so a big subscribe does not take the whole pool. */
const LOOKUP_CONCURRENCY = 8;

/** Answers "may this viewer see that target's presence?" for one batch of lookups. */
type Visibility = (viewerId: string) => boolean;

/**
 * Presence: who is online, pushed to the connections that watch them.
 *
 * - Connections are recorded in the PresenceStore (memory or Redis) on connect and
 *   disconnect; the store says when a user becomes online or has lost their last
 *   connection. The offline transition waits for the grace period (a timer here, and a
 *   periodic sweep on every instance for users whose timer died with its instance), and
 *   is the only step that writes to the database (lastSeen). Heartbeats only renew the
 *   instance's liveness in the store.
 * - Every announced change reaches every instance through the store's change feed. Each
 *   instance computes, for its own watching connections, what each viewer may see, and
 *   pushes only views that differ from the last one that connection was given.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(PresenceService.name);
  /** This process's identity in the store; a restart is a new instance. */
  readonly instanceId = randomUUID();
  private readonly local = new Map<string, ConnectionRef>();
  private readonly connecting = new Map<string, Promise<unknown>>();
  /** Users whose last connection went through this instance and who wait out the grace. */
  private readonly graceTimers = new Map<string, { timer: NodeJS.Timeout; goneAt: number }>();
  private readonly watchers = new PresenceWatchers();
  private readonly recomputing = new Map<string, { dirty: boolean }>();
  /** Per connection, every id it asked to watch (watchable or not), for PRESENCE_MAX_WATCHES. */
  private readonly requested = new Map<string, Set<string>>();
  /** Bounds the database reads of pushes, e.g. after a user who watches thousands changes a setting. */
  private readonly pushSlots = new Semaphore(LOOKUP_CONCURRENCY);
  private readonly timers: NodeJS.Timeout[] = [];
  private stopFeed?: () => Promise<void>;
  /** Users who lost their last connection here during shutdown, and when. */
  private readonly goneWhileStopping = new Map<string, number>();
  private stopping = false;
  private removed = false;
  /** A connect could not be recorded (store unreachable): re-register on the next beat. */
  private resyncPending = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly users: UsersService,
    private readonly chat: ChatService,
    private readonly realtime: RealtimeEmitter,
    private readonly lifecycle: SocketLifecycle,
    private readonly events: DomainEvents,
    private readonly config: AppConfig,
    private readonly limiter: RateLimiter,
  ) {}

  async onModuleInit(): Promise<void> {
    this.lifecycle.onConnected((ctx) => this.connected(ctx));
    this.lifecycle.onDisconnected((ctx) => this.disconnected(ctx));
    // The change is already saved; failing to tell watchers must not fail the request.
    const refresh = ({ userId }: { userId: string }) =>
      this.store.announceRefresh(userId).catch((error: unknown) => {
        this.logger.warn(`could not announce a privacy change: ${String(error)}`);
      });
    this.events.on('user.privacy.changed', refresh);
    // A block or a contact change decides anew, at once, what the user's watchers see.
    this.events.on('user.relations.changed', refresh);
    this.stopFeed = await this.store.subscribe((change) => this.onChange(change));
    await this.heartbeat();

    const { heartbeatMs, graceMs, ttlMs } = this.config.presence;
    if (ttlMs <= heartbeatMs) {
      this.logger.warn(
        `PRESENCE_TTL_MS (${ttlMs}) should be well above PRESENCE_HEARTBEAT_MS (${heartbeatMs}), ` +
          'or other instances will reap this one between heartbeats',
      );
    }
    // Sweeps pick up users whose grace timer was on an instance that has since stopped;
    // running them about once per grace period keeps that case close to the normal one.
    const sweepMs = Math.min(heartbeatMs, Math.max(graceMs, 1000));
    this.every(heartbeatMs, () => this.heartbeat());
    this.every(sweepMs, () => this.sweep());
  }

  onModuleDestroy(): void {
    this.stopping = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const [userId, { timer, goneAt }] of this.graceTimers) {
      clearTimeout(timer);
      this.goneWhileStopping.set(userId, goneAt);
    }
    this.graceTimers.clear();
  }

  /**
   * Runs while sockets are still open and the database and Redis still answer: leaves the
   * store (other instances settle this instance's users after the grace period, so clients
   * that reconnect elsewhere do not flap) and stores lastSeen for the users who are gone,
   * which also covers the single-instance case where nobody else would.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.stopFeed?.().catch(() => undefined);
    const now = Date.now();
    let emptied: string[] = [];
    try {
      emptied = await this.store.removeInstance(this.instanceId, now);
    } catch (error) {
      this.logger.warn(`could not leave the presence store: ${String(error)}`);
    }
    this.removed = true;
    this.local.clear();
    for (const userId of emptied) this.goneWhileStopping.set(userId, now);
    await mapLimit([...this.goneWhileStopping], LOOKUP_CONCURRENCY, ([userId, goneAt]) =>
      this.users.setLastSeen(userId, new Date(goneAt)).catch((error: unknown) => {
        this.logger.warn(`could not store lastSeen of ${userId}: ${String(error)}`);
      }),
    );
    this.goneWhileStopping.clear();
  }

  // --- connections -----------------------------------------------------------------------

  private async connected(ctx: SocketContext): Promise<void> {
    if (this.stopping) return;
    const ref: ConnectionRef = {
      instanceId: this.instanceId,
      userId: ctx.userId,
      deviceId: ctx.deviceId,
      connectionId: ctx.socket.id,
    };
    this.local.set(ref.connectionId, ref);
    this.cancelGrace(ref.userId);
    const recorded = this.store.connect(ref, Date.now());
    this.connecting.set(ref.connectionId, recorded);
    try {
      await recorded;
    } catch (error) {
      this.resyncPending = true;
      throw error;
    } finally {
      if (this.connecting.get(ref.connectionId) === recorded)
        this.connecting.delete(ref.connectionId);
    }
  }

  private async disconnected(ctx: SocketContext): Promise<void> {
    const connectionId = ctx.socket.id;
    this.watchers.removeConnection(connectionId);
    this.requested.delete(connectionId);
    const ref = this.local.get(connectionId);
    if (!ref || this.removed) return;
    this.local.delete(connectionId);
    // The disconnect must not overtake its own connect in the store.
    await this.connecting.get(connectionId)?.catch(() => undefined);
    const now = Date.now();
    if (!(await this.store.disconnect(ref, now))) return;
    if (this.stopping) this.goneWhileStopping.set(ref.userId, now);
    else this.startGrace(ref.userId, now);
  }

  private startGrace(userId: string, goneAt: number): void {
    this.cancelGrace(userId);
    const timer = setTimeout(() => {
      this.graceTimers.delete(userId);
      void this.settle([userId]);
    }, this.config.presence.graceMs + GRACE_SLACK_MS);
    timer.unref();
    this.graceTimers.set(userId, { timer, goneAt });
  }

  private cancelGrace(userId: string): void {
    const pending = this.graceTimers.get(userId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.graceTimers.delete(userId);
  }

  /** Declares offline whoever is due, and stores their lastSeen (the one DB write). */
  private async settle(userIds?: string[]): Promise<void> {
    try {
      const transitions = await this.store.settle(
        Date.now(),
        this.config.presence.graceMs,
        userIds,
      );
      await mapLimit(transitions, LOOKUP_CONCURRENCY, (t) =>
        this.users.setLastSeen(t.userId, t.lastSeen),
      );
    } catch (error) {
      this.logger.warn(`presence settle failed: ${String(error)}`);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      const known = await this.store.heartbeat(this.instanceId, Date.now());
      if ((known && !this.resyncPending) || !this.local.size || this.stopping) return;
      // The store lost this instance (Redis restarted empty, or it reaped us after a long
      // stall), or missed a connect: register the connections that are in fact still here.
      // Recording a known connection again changes nothing.
      if (!known) this.logger.warn('presence store did not know this instance; re-registering');
      this.resyncPending = false;
      const now = Date.now();
      await mapLimit([...this.local.values()], LOOKUP_CONCURRENCY, (ref) =>
        this.store.connect(ref, now),
      );
    } catch (error) {
      this.resyncPending = true;
      this.logger.warn(`presence heartbeat failed: ${String(error)}`);
    }
  }

  private async sweep(): Promise<void> {
    try {
      await this.store.reapDeadInstances(Date.now());
    } catch (error) {
      this.logger.warn(`presence reap failed: ${String(error)}`);
    }
    await this.settle();
  }

  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void task().finally(() => (running = false));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  // --- subscriptions ---------------------------------------------------------------------

  /**
   * Starts watching the given users from one connection and returns what the viewer may see
   * of each, in order. Users the viewer may not watch come back hidden and are not watched.
   */
  async subscribe(ctx: SocketContext, userIds: readonly string[]): Promise<PresenceView[]> {
    const viewerId = ctx.userId;
    const connectionId = ctx.socket.id;
    const wanted = unique(userIds.map((id) => id.toLowerCase()));
    await this.admitSubscribe(viewerId, connectionId, wanted);
    const watchable = await this.watchableAmong(viewerId, wanted);
    const added = [...watchable].filter((id) => !this.watchers.isWatching(connectionId, id));
    // Registered before reading, so no change heard meanwhile is lost; inactive until the
    // ack below carries the merged state.
    this.watchers.add(connectionId, viewerId, added);
    try {
      const targets = [...watchable];
      const [states, rows] = await Promise.all([
        this.store.states(targets),
        this.users.findMany([...targets, viewerId]),
      ]);
      const byId = new Map(rows.map((u) => [u.id, u]));
      const viewer = byId.get(viewerId);
      for (const [targetId, state] of states) {
        this.watchers.applyState(targetId, state.online, state.version);
        this.watchers.noteLastSeen(targetId, byId.get(targetId)?.lastSeenAt ?? null);
      }
      const visible = viewer
        ? await this.visibleTargets(viewer, targets.map((id) => byId.get(id)).filter(isUser))
        : new Set<string>();

      return wanted.map((targetId) => {
        const raw = this.watchers.raw(targetId);
        if (!watchable.has(targetId) || !raw) return hiddenPresence(targetId);
        const view = presenceView(targetId, raw, visible.has(targetId));
        this.watchers.activate(connectionId, targetId, view);
        return view;
      });
    } catch (error) {
      this.watchers.remove(connectionId, added);
      throw error;
    }
  }

  /**
   * The subscribe rate limit, then the cap on what one connection may ask to watch: every
   * requested id counts, watchable or not (probing who is registered costs the same), and a
   * request that would pass the cap adds nothing.
   */
  private async admitSubscribe(
    viewerId: string,
    connectionId: string,
    wanted: readonly string[],
  ): Promise<void> {
    const { maxWatches, subscribesPerMinute } = this.config.presence;
    if (subscribesPerMinute > 0) {
      const decision = await this.limiter.consume(
        `presence-sub:${viewerId}`,
        subscribesPerMinute,
        60_000,
      );
      if (!decision.allowed)
        throw AppError.rateLimited(
          decision.retryAfterMs,
          `At most ${subscribesPerMinute} presence:subscribe per minute`,
        );
    }
    const asked = this.requested.get(connectionId) ?? new Set<string>();
    const fresh = wanted.filter((id) => !asked.has(id));
    if (maxWatches > 0 && asked.size + fresh.length > maxWatches) {
      throw AppError.validation(
        `A connection may watch at most ${maxWatches} users; it watches ${asked.size} and asked for ${fresh.length} more`,
      );
    }
    for (const id of fresh) asked.add(id);
    this.requested.set(connectionId, asked);
  }

  unsubscribe(ctx: SocketContext, userIds: readonly string[]): void {
    const asked = this.requested.get(ctx.socket.id);
    if (asked) for (const id of userIds) asked.delete(id.toLowerCase());
    this.watchers.remove(
      ctx.socket.id,
      userIds.map((id) => id.toLowerCase()),
    );
  }

  /** REST: one user's presence as the viewer may see it (NOT_FOUND for an unknown user). */
  /** Devices of these users with a live socket on any instance (push leaves them alone). */
  connectedDevices(userIds: readonly string[]): Promise<Set<string>> {
    return this.store.connectedDevices(userIds);
  }

  async presenceOf(viewerId: string, targetId: string): Promise<PresenceView> {
    const target = await this.users.get(targetId);
    const watchable = await this.watchableAmong(viewerId, [target.id]);
    if (!watchable.has(target.id)) return hiddenPresence(target.id);
    const [states, viewer] = await Promise.all([
      this.store.states([target.id]),
      target.id === viewerId ? target : this.users.get(viewerId),
    ]);
    const visible = await this.visibleTargets(viewer, [target]);
    const online = states.get(target.id)?.online ?? false;
    return presenceView(target.id, { online, lastSeen: target.lastSeenAt }, visible.has(target.id));
  }

  /**
   * Users a viewer may watch: themself, their contacts, and whoever shares an active
   * conversation with them. Anyone else (unknown ids included) is never watched.
   */
  private async watchableAmong(viewerId: string, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (!ids.length) return out;
    const contacts = new Set((await this.users.listContacts(viewerId)).map((c) => c.userId));
    const rest: string[] = [];
    for (const id of ids) {
      if (id === viewerId || contacts.has(id)) out.add(id);
      else rest.push(id);
    }
    if (rest.length) {
      for (const id of await this.chat.usersSharingConversationWith(viewerId, rest)) out.add(id);
    }
    return out;
  }

  /** One viewer, many targets: which targets may the viewer see. */
  private async visibleTargets(viewer: User, targets: readonly User[]): Promise<Set<string>> {
    const visible = new Set<string>();
    await mapLimit(targets, LOOKUP_CONCURRENCY, async (target) => {
      // Settings alone decide most cases; only the rest cost lookups.
      const decidedBySettings =
        target.id === viewer.id ||
        viewer.lastSeenPrivacy === 'nobody' ||
        target.lastSeenPrivacy === 'nobody';
      const [blocked, inContacts] = decidedBySettings
        ? [false, false]
        : await Promise.all([
            this.users.isBlocked(target.id, viewer.id),
            target.lastSeenPrivacy === 'contacts'
              ? this.users.hasInContacts(target.id, viewer.id)
              : Promise.resolve(false),
          ]);
      const ok = isPresenceVisible({
        targetId: target.id,
        viewerId: viewer.id,
        targetPrivacy: target.lastSeenPrivacy,
        viewerPrivacy: viewer.lastSeenPrivacy,
        targetHasViewerInContacts: inContacts,
        targetBlockedViewer: blocked,
      });
      if (ok) visible.add(target.id);
    });
    return visible;
  }

  /** One target, many viewers: a visibility test for each viewer, from three reads. */
  private async audienceOf(
    targetId: string,
    viewerIds: readonly string[],
  ): Promise<{ target: User; visible: Visibility } | null> {
    const rows = await this.users.findMany(unique([targetId, ...viewerIds]));
    const byId = new Map(rows.map((u) => [u.id, u]));
    const target = byId.get(targetId);
    if (!target) return null;
    const [contacts, blocked] = await Promise.all([
      target.lastSeenPrivacy === 'contacts' ? this.users.listContacts(targetId) : [],
      target.lastSeenPrivacy === 'nobody' ? [] : this.users.listBlocked(targetId),
    ]);
    const contactIds = new Set(contacts.map((c) => c.userId));
    const blockedIds = new Set(blocked);
    const visible = (viewerId: string): boolean => {
      const viewer = byId.get(viewerId);
      return (
        !!viewer &&
        isPresenceVisible({
          targetId,
          viewerId,
          targetPrivacy: target.lastSeenPrivacy,
          viewerPrivacy: viewer.lastSeenPrivacy,
          targetHasViewerInContacts: contactIds.has(viewerId),
          targetBlockedViewer: blockedIds.has(viewerId),
        })
      );
    };
    return { target, visible };
  }

  // --- change feed -----------------------------------------------------------------------

  private onChange(change: PresenceChange): void {
    switch (change.kind) {
      case 'online':
      case 'offline':
        if (!this.watchers.applyState(change.userId, change.kind === 'online', change.version))
          return;
        if (change.kind === 'offline') this.watchers.noteLastSeen(change.userId, change.lastSeen);
        this.schedulePush(change.userId);
        return;
      case 'refresh':
        // The user's own setting changes both what others see of them and (reciprocity)
        // what they see of others.
        if (this.watchers.isWatched(change.userId)) this.schedulePush(change.userId);
        for (const targetId of this.watchers.watchedByViewer(change.userId)) {
          this.schedulePush(targetId);
        }
        return;
    }
  }

  /** At most one push per target runs at a time; changes heard meanwhile rerun it once. */
  private schedulePush(targetId: string): void {
    const running = this.recomputing.get(targetId);
    if (running) {
      running.dirty = true;
      return;
    }
    const state = { dirty: false };
    this.recomputing.set(targetId, state);
    void (async () => {
      try {
        do {
          state.dirty = false;
          await this.pushSlots.run(() => this.pushViews(targetId));
        } while (state.dirty);
      } catch (error) {
        this.logger.warn(`presence push for ${targetId} failed: ${String(error)}`);
      } finally {
        this.recomputing.delete(targetId);
      }
    })();
  }

  private async pushViews(targetId: string): Promise<void> {
    const before = this.watchers.activeWatchesOf(targetId);
    if (!before.length) return;
    const audience = await this.audienceOf(
      targetId,
      before.map((w) => w.viewerId),
    );
    const raw = this.watchers.raw(targetId);
    if (!audience || !raw) return;
    const known = new Set(before.map((w) => w.viewerId));
    const lastSeen = laterOf(raw.lastSeen, audience.target.lastSeenAt);
    // Viewers with the same view get it in one emit.
    const batches = new Map<string, { view: PresenceView; connectionIds: string[] }>();
    for (const watch of this.watchers.activeWatchesOf(targetId)) {
      if (!known.has(watch.viewerId)) continue; // arrived meanwhile; its ack was current
      const view = presenceView(
        targetId,
        { online: raw.online, lastSeen },
        audience.visible(watch.viewerId),
      );
      if (sameView(watch.sent, view)) continue;
      this.watchers.markSent(watch.connectionId, targetId, view);
      const key = `${String(view.online)}|${view.lastSeen ?? ''}`;
      const batch = batches.get(key) ?? { view, connectionIds: [] };
      batch.connectionIds.push(watch.connectionId);
      batches.set(key, batch);
    }
    for (const { view, connectionIds } of batches.values()) {
      this.realtime.toLocalSockets(connectionIds, 'presence', view);
    }
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function isUser(user: User | undefined): user is User {
  return !!user;
}
