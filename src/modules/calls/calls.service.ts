import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AppError, ErrorCode } from '../../common/errors';
import { DomainEvents } from '../../common/events/domain-events';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { SocketLifecycle } from '../../common/realtime/socket-lifecycle';
import { AuthService } from '../auth/auth.service';
import { ChatService } from '../chat/chat.service';
import { UsersService } from '../users/users.service';
import {
  accept,
  busy,
  cancel,
  disconnected,
  durationSec,
  hangup,
  newCall,
  reject,
  ringTimeout,
  signallingDevices,
  type CallEffect,
  type CallMedia,
  type CallState,
  type RingingCallee,
  type Transition,
} from './domain/call';
import { iceServers, type IceServer } from './domain/turn-credentials';
import { CallHistoryRepository, type CallRecord } from './ports/call-history.repository';
import { CallStateStore } from './ports/call-state.store';

export interface InviteInput {
  calleeId?: string;
  conversationId?: string;
  media: CallMedia;
}

export interface CallView {
  id: string;
  conversationId: string;
  callerId: string;
  media: CallMedia;
  outcome: CallRecord['outcome'];
  startedAt: string;
  answeredAt: string | null;
  endedAt: string;
  durationSec: number;
}

/** A finished call stays readable this long, so late actions get a clear NOT_FOUND. */
const ENDED_TTL_MS = 60_000;
/** How long a live call outlives its owner's last refresh (beyond the timers it runs). */
const LIVE_TTL_MARGIN_MS = 60_000;
/** Attempts at a compare-and-set before giving up (each loss means someone else moved). */
const MAX_ATTEMPTS = 20;
const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 100;

/**
 * Call signalling. The rules are the pure transitions of domain/call.ts; this service reads
 * a call, applies one, writes it back only if nobody else moved it meanwhile (retrying if
 * they did), and then tells devices what the winning transition says. Timers live on the
 * instance that placed the call (ring timeout) or that held the dropped socket (disconnect
 * grace); the store's expiry cleans up after an instance that died with its timers.
 */
@Injectable()
export class CallsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CallsService.name);
  /** Calls placed through this instance: it runs their ring timers and keeps them alive. */
  private readonly owned = new Map<string, NodeJS.Timeout>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private refresher?: NodeJS.Timeout;
  /** Set on shutdown: sockets closing then must not start timers that outlive the app. */
  private stopped = false;

  constructor(
    private readonly store: CallStateStore,
    private readonly history: CallHistoryRepository,
    private readonly chat: ChatService,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly realtime: RealtimeEmitter,
    private readonly events: DomainEvents,
    private readonly lifecycle: SocketLifecycle,
    private readonly config: AppConfig,
  ) {}

  private get liveTtlMs(): number {
    const { ringTimeoutSec, disconnectGraceSec } = this.config.calls;
    return (ringTimeoutSec + disconnectGraceSec) * 1000 + LIVE_TTL_MARGIN_MS;
  }

  onModuleInit(): void {
    this.lifecycle.onDisconnected((ctx) => this.socketDropped(ctx));
    this.refresher = setInterval(() => void this.refreshOwned(), this.liveTtlMs / 3);
    this.refresher.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.refresher);
    for (const timer of [...this.owned.values(), ...this.graceTimers.values()]) clearTimeout(timer);
    this.owned.clear();
    this.graceTimers.clear();
  }

  async invite(caller: AuthContext, input: InviteInput): Promise<{ callId: string }> {
    const { conversationId, group, calleeIds } = await this.resolveCallees(caller, input);
    const blockedBy = new Set<string>();
    await Promise.all(
      calleeIds.map(async (id) => {
        if (await this.users.isBlocked(id, caller.userId)) blockedBy.add(id);
      }),
    );
    const rung = calleeIds.filter((id) => !blockedBy.has(id));
    const ringing: RingingCallee[] = await Promise.all(
      rung.map(async (userId) => ({
        userId,
        deviceIds: (await this.auth.listDevices(userId))
          .filter((d) => !d.revokedAt)
          .map((d) => d.id),
      })),
    );
    const now = Date.now();
    const call = newCall({
      id: uuidv7(),
      conversationId,
      group,
      callerId: caller.userId,
      callerDeviceId: caller.deviceId,
      media: input.media,
      ringing,
      withheld: [...blockedBy],
      now,
    });
    // The blocker is never rung, and so is never busy either: busy would reveal them.
    const calleeBusy =
      !group && rung.length === 1 && (await this.store.currentCallOf(rung[0])) !== null;
    if (!(await this.store.create(call, this.liveTtlMs))) {
      throw new AppError(ErrorCode.CONFLICT, 'You are already in a call');
    }
    if (calleeBusy) {
      await this.transact(call.id, (c) => busy(c, Date.now()));
      return { callId: call.id };
    }
    this.own(call.id);
    const incoming = {
      callId: call.id,
      conversationId,
      callerId: caller.userId,
      callerDeviceId: caller.deviceId,
      media: input.media,
    };
    this.realtime.toUsers(rung, 'call:incoming', incoming);
    if (rung.length) {
      await this.events.publish('call.ringing', { ...incoming, calleeUserIds: rung });
    }
    return { callId: call.id };
  }

  accept(ctx: AuthContext, callId: string): Promise<void> {
    const max = this.config.calls.maxParticipants;
    return this.act(callId, (c) => accept(c, ctx.userId, ctx.deviceId, Date.now(), max));
  }

  reject(ctx: AuthContext, callId: string): Promise<void> {
    return this.act(callId, (c) => reject(c, ctx.userId, ctx.deviceId, Date.now()));
  }

  cancel(ctx: AuthContext, callId: string): Promise<void> {
    return this.act(callId, (c) => cancel(c, ctx.userId, ctx.deviceId, Date.now()));
  }

  hangup(ctx: AuthContext, callId: string): Promise<void> {
    return this.act(callId, (c) => hangup(c, ctx.userId, ctx.deviceId, Date.now()));
  }

  /** Relays opaque signalling data between two devices of one call. */
  async signal(
    ctx: AuthContext,
    input: { callId: string; toDeviceId: string; data: unknown },
  ): Promise<void> {
    const call = await this.store.get(input.callId);
    const devices = call ? signallingDevices(call) : new Set<string>();
    if (!devices.has(ctx.deviceId) || !devices.has(input.toDeviceId)) {
      if (!call || call.status === 'ended') throw AppError.notFound('Call');
      throw new AppError(
        ErrorCode.NOT_A_MEMBER,
        'Signals go only between devices in the call or ringing for it',
      );
    }
    this.realtime.toDevice(input.toDeviceId, 'call:signal', {
      callId: input.callId,
      fromUserId: ctx.userId,
      fromDeviceId: ctx.deviceId,
      data: input.data,
    });
  }

  iceServers(userId: string): { iceServers: IceServer[]; ttlSec: number } {
    const { stunUrls, turnUrls, turnSecret, turnTtlSec } = this.config.calls;
    return {
      iceServers: iceServers({
        stunUrls,
        turnUrls,
        turnSecret,
        userId,
        nowSec: Math.floor(Date.now() / 1000),
        ttlSec: turnTtlSec,
      }),
      ttlSec: turnTtlSec,
    };
  }

  async list(
    userId: string,
    query: { cursor?: string; limit?: number },
  ): Promise<{ calls: CallView[]; nextCursor: string | null }> {
    const limit = Math.min(query.limit ?? HISTORY_DEFAULT, HISTORY_MAX);
    const records = await this.history.listForUser(userId, limit + 1, query.cursor);
    const page = records.slice(0, limit);
    return {
      calls: page.map(toView),
      nextCursor: records.length > limit ? page[page.length - 1].id : null,
    };
  }

  /** Who is rung, in which conversation; refuses calls the caller may not place. */
  private async resolveCallees(
    caller: AuthContext,
    input: InviteInput,
  ): Promise<{ conversationId: string; group: boolean; calleeIds: string[] }> {
    if (input.calleeId) {
      const calleeId = input.calleeId;
      if (calleeId === caller.userId) throw AppError.validation('You cannot call yourself');
      const allowed =
        (await this.users.exists(calleeId)) &&
        ((await this.users.hasInContacts(caller.userId, calleeId)) ||
          (await this.chat.sharesConversation(caller.userId, calleeId)));
      if (!allowed) throw AppError.notAMember();
      const conversationId = await this.chat.directConversationId(caller.userId, calleeId);
      return { conversationId, group: false, calleeIds: [calleeId] };
    }
    const conversationId = input.conversationId!;
    let members: { type: 'direct' | 'group'; memberIds: string[] };
    try {
      members = await this.chat.activeMembersFor(caller.userId, conversationId);
    } catch (error) {
      // An unknown conversation looks like one you are not in: ids are not probed this way.
      if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) {
        throw AppError.notAMember();
      }
      throw error;
    }
    const calleeIds = members.memberIds.filter((id) => id !== caller.userId);
    if (!calleeIds.length) throw new AppError(ErrorCode.CONFLICT, 'Nobody else is here to call');
    return { conversationId, group: members.type === 'group', calleeIds };
  }

  private async act(callId: string, decide: (call: CallState) => Transition): Promise<void> {
    await this.transact(callId, decide);
  }

  /**
   * Reads the call, decides, and writes the result only if the call is still as read; a
   * lost race re-reads and decides again on the new state (which may now refuse). The
   * winner alone tells devices, and records the call if it ended.
   */
  private async transact(
    callId: string,
    decide: (call: CallState) => Transition | null,
  ): Promise<CallState | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const call = await this.store.get(callId);
      if (!call) throw AppError.notFound('Call');
      const transition = decide(call);
      if (!transition) return call;
      const ended = transition.next.status === 'ended';
      const result = await this.store.replace(
        call,
        transition.next,
        ended ? ENDED_TTL_MS : this.liveTtlMs,
      );
      if (result === 'gone') throw AppError.notFound('Call');
      if (result === 'busy') throw new AppError(ErrorCode.CONFLICT, 'You are in another call');
      if (result === 'conflict') continue;
      this.apply(callId, transition.effects);
      if (ended) await this.finish(transition.next);
      return transition.next;
    }
    throw new AppError(ErrorCode.CONFLICT, 'The call is changing too fast; try again');
  }

  private apply(callId: string, effects: CallEffect[]): void {
    for (const effect of effects) {
      for (const deviceId of effect.toDeviceIds) {
        if (effect.kind === 'accepted') {
          this.realtime.toDevice(deviceId, 'call:accepted', {
            callId,
            userId: effect.userId,
            deviceId: effect.deviceId,
          });
        } else if (effect.kind === 'left') {
          this.realtime.toDevice(deviceId, 'call:left', { callId, userId: effect.userId });
        } else {
          this.realtime.toDevice(deviceId, 'call:ended', { callId, reason: effect.reason });
        }
      }
    }
  }

  /** The record of a finished call: a history row for everyone concerned and a system message. */
  private async finish(call: CallState): Promise<void> {
    this.disown(call.id);
    const record: CallRecord = {
      id: call.id,
      conversationId: call.conversationId,
      callerId: call.callerId,
      media: call.media,
      outcome: call.outcome!,
      startedAt: new Date(call.startedAt),
      answeredAt: call.answeredAt === null ? null : new Date(call.answeredAt),
      endedAt: new Date(call.endedAt!),
      durationSec: durationSec(call),
    };
    try {
      // Callees who blocked the caller are in neither: they never learn of the call.
      await this.history.record(record, call.participantIds);
      const message = await this.chat.appendSystemMessage({
        conversationId: call.conversationId,
        senderId: call.callerId,
        senderDeviceId: call.callerDeviceId,
        clientMsgId: `call:${call.id}`,
        body: JSON.stringify({
          event: 'call',
          callId: call.id,
          media: call.media,
          outcome: record.outcome,
          durationSec: record.durationSec,
        }),
        withheldFrom: call.group ? null : (call.withheld[0] ?? null),
      });
      if (!message) this.logger.warn(`call ${call.id}: its conversation took no system message`);
    } catch (error) {
      this.logger.error({ err: error, callId: call.id }, 'recording a finished call failed');
    }
  }

  private own(callId: string): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.transact(callId, (c) => ringTimeout(c, Date.now())).catch((error: unknown) => {
        if (!(error instanceof AppError)) this.logger.error(error);
      });
    }, this.config.calls.ringTimeoutSec * 1000);
    timer.unref();
    this.owned.set(callId, timer);
  }

  private disown(callId: string): void {
    const timer = this.owned.get(callId);
    if (timer) clearTimeout(timer);
    this.owned.delete(callId);
  }

  /** Keeps the calls this instance placed alive in the store while it runs. */
  private async refreshOwned(): Promise<void> {
    for (const callId of [...this.owned.keys()]) {
      try {
        const call = await this.store.get(callId);
        if (!call || call.status === 'ended') this.owned.delete(callId);
        else await this.store.touch(callId, this.liveTtlMs);
      } catch (error) {
        this.logger.warn(`refreshing call ${callId}: ${String(error)}`);
      }
    }
  }

  /**
   * A device in a call lost a socket: if it has none left anywhere once the grace period
   * is over, it leaves the call as `failed`.
   */
  private async socketDropped(ctx: AuthContext): Promise<void> {
    if (this.stopped) return;
    const callId = await this.store.currentCallOf(ctx.userId);
    if (!callId) return;
    const call = await this.store.get(callId);
    if (this.stopped || !call?.joined.some((j) => j.deviceId === ctx.deviceId)) return;
    clearTimeout(this.graceTimers.get(ctx.deviceId));
    const timer = setTimeout(() => {
      this.graceTimers.delete(ctx.deviceId);
      void this.graceOver(callId, ctx.deviceId);
    }, this.config.calls.disconnectGraceSec * 1000);
    timer.unref();
    this.graceTimers.set(ctx.deviceId, timer);
  }

  private async graceOver(callId: string, deviceId: string): Promise<void> {
    try {
      if (await this.realtime.isDeviceConnected(deviceId)) return;
      await this.transact(callId, (c) => disconnected(c, deviceId, Date.now()));
    } catch (error) {
      if (!(error instanceof AppError)) this.logger.error(error);
    }
  }
}

function toView(r: CallRecord): CallView {
  return {
    id: r.id,
    conversationId: r.conversationId,
    callerId: r.callerId,
    media: r.media,
    outcome: r.outcome,
    startedAt: r.startedAt.toISOString(),
    answeredAt: r.answeredAt ? r.answeredAt.toISOString() : null,
    endedAt: r.endedAt.toISOString(),
    durationSec: r.durationSec,
  };
}
