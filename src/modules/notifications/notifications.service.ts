import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { DomainEvents, type DomainEventMap } from '../../common/events/domain-events';
import { MetricsRegistry } from '../../common/metrics/metrics.registry';
import { JobQueue, type JobContext } from '../../common/queue/job-queue';
import { JobName, type JobPayloads } from '../../common/queue/queue-names';
import { RateLimiter, type RateDecision } from '../../common/rate-limit/rate-limiter';
import { AuthService } from '../auth/auth.service';
import { ChatService, MUTED_FOREVER } from '../chat/chat.service';
import { PresenceService } from '../presence/presence.service';
import { UsersService } from '../users/users.service';
import { assertEndpointAllowed, RefusedEndpointError } from './domain/endpoint-guard';
import {
  collapseKeyOf,
  takesMessagePushes,
  type MessagePushPayload,
  type PushPayload,
  type PushProvider,
  type PushRegistration,
} from './domain/push';
import { normalizeToken } from './domain/registration-token';
import { PushRegistrationRepository } from './ports/push-registration.repository';
import { PushSenders } from './push-senders';

/** Conversations remembered as already scheduled in the current window, per instance. */
const SCHEDULED_MEMORY = 50_000;
/** A held-back device's follow-up runs this long after its limit allows again. */
const FOLLOW_UP_SLACK_MS = 100;

/**
 * Push to devices without a connected socket. The send path only announces which
 * conversations got messages (one event per write batch); a delayed job per conversation
 * and window then decides, from the delivery positions sync uses, who is still behind.
 */
@Injectable()
export class NotificationsService implements OnModuleInit {
  private readonly logger = new Logger('Push');
  /** conversationId -> the delay window its decision job was enqueued for. */
  private readonly scheduled = new Map<string, number>();
  private readonly outcomes: Counter;

  constructor(
    private readonly registrations: PushRegistrationRepository,
    private readonly chat: ChatService,
    private readonly presence: PresenceService,
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly jobs: JobQueue,
    private readonly events: DomainEvents,
    private readonly rateLimiter: RateLimiter,
    private readonly senders: PushSenders,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.outcomes = metrics.counter(
      'parley_push_total',
      'Pushes by provider and outcome (sent, gone, retry, dead_letter, rate_limited)',
      ['provider', 'outcome'],
    );
  }

  onModuleInit(): void {
    this.events.on('device.revoked', async ({ deviceId }) => {
      await this.registrations.removeDevice(deviceId);
    });
    this.events.on('messages.stored', ({ conversationIds }) => this.schedule(conversationIds));
    this.events.on('call.ringing', (call) => this.pushCall(call));
    this.jobs.process(JobName.decideConversationPush, ({ conversationId, onlyDeviceIds }) =>
      this.decide(conversationId, onlyDeviceIds),
    );
    this.jobs.process(JobName.deliverPush, (job, ctx) => this.deliver(job, ctx));
  }

  // --- API ----------------------------------------------------------------------------

  async register(
    caller: AuthContext,
    deviceId: string,
    provider: PushProvider,
    rawToken: string,
  ): Promise<void> {
    await this.assertOwnDevice(caller, deviceId);
    const normalized = normalizeToken(provider, rawToken);
    if ('problem' in normalized) throw AppError.validation(`token: ${normalized.problem}`);
    if (normalized.endpoint) {
      try {
        await assertEndpointAllowed(normalized.endpoint, this.config.push.allowPrivateEndpoints);
      } catch (error) {
        if (error instanceof RefusedEndpointError) throw AppError.validation(error.message);
        throw error;
      }
    }
    await this.registrations.upsert({
      deviceId,
      userId: caller.userId,
      provider,
      token: normalized.token,
    });
  }

  async unregister(caller: AuthContext, deviceId: string): Promise<void> {
    await this.assertOwnDevice(caller, deviceId);
    await this.registrations.removeDevice(deviceId);
  }

  setPreview(userId: string, preview: boolean): Promise<void> {
    return this.registrations.setPreview(userId, preview);
  }

  async mute(userId: string, conversationId: string, until: unknown): Promise<void> {
    let end: Date | null;
    if (until === null) end = null;
    else if (until === 'forever') end = MUTED_FOREVER;
    else if (typeof until === 'string' && !Number.isNaN(Date.parse(until))) {
      end = new Date(until);
      if (end.getTime() > MUTED_FOREVER.getTime()) end = MUTED_FOREVER;
    } else throw AppError.validation('until must be an ISO time, "forever" or null');
    await this.chat.setMute(userId, conversationId, end);
  }

  get vapidPublicKey(): string | null {
    return this.senders.vapidPublicKey;
  }

  private async assertOwnDevice(caller: AuthContext, deviceId: string): Promise<void> {
    const owner = await this.auth.activeDeviceOwner(deviceId);
    if (!owner) throw AppError.notFound('Device');
    if (owner !== caller.userId) throw AppError.forbidden('That device is not yours');
  }

  // --- message pushes -----------------------------------------------------------------

  /**
   * At most one decision job per conversation and delay window: the first message of a
   * window enqueues it (deduplicated by job id across instances, and remembered here so
   * a burst costs one queue call), later ones in the window are covered by it.
   */
  private async schedule(conversationIds: readonly string[]): Promise<void> {
    const delayMs = this.config.push.delayMs;
    const window = Math.floor(Date.now() / Math.max(delayMs, 1));
    if (this.scheduled.size > SCHEDULED_MEMORY) this.scheduled.clear();
    for (const conversationId of conversationIds) {
      if (this.scheduled.get(conversationId) === window) continue;
      this.scheduled.set(conversationId, window);
      await this.jobs.enqueue(
        JobName.decideConversationPush,
        { conversationId },
        { jobId: `push-${conversationId}-${window}`, delayMs },
      );
    }
  }

  /**
   * Pushes to the devices of the conversation's members that are still behind and offline.
   * Devices the per-minute limit holds back get one follow-up decision when the limit
   * allows again, so their last push is not left with stale counts; a follow-up never
   * schedules another (two devices cannot keep re-pushing each other).
   */
  async decide(conversationId: string, onlyDeviceIds?: readonly string[]): Promise<void> {
    const target = await this.chat.pushMembers(conversationId);
    if (!target) return;
    const now = Date.now();
    const members = new Map(
      target.members
        .filter((m) => !(m.mutedUntil && m.mutedUntil.getTime() > now))
        .filter((m) => target.lastSeq > m.joinedSeq)
        .map((m) => [m.userId, m]),
    );
    if (!members.size) return;
    const only = onlyDeviceIds ? new Set(onlyDeviceIds) : null;
    const registrations = (await this.registrations.forUsers([...members.keys()])).filter(
      (r) => takesMessagePushes(r.provider) && (!only || only.has(r.deviceId)),
    );
    if (!registrations.length) return;
    const userIds = unique(registrations.map((r) => r.userId));
    const [positions, connected] = await Promise.all([
      this.chat.devicePositions(conversationId, unique(registrations.map((r) => r.deviceId))),
      this.presence.connectedDevices(userIds),
    ]);
    const behind = registrations.filter((r) => {
      const member = members.get(r.userId)!;
      const position = Math.max(positions.get(r.deviceId) ?? 0, member.joinedSeq);
      return target.lastSeq > position && !connected.has(r.deviceId);
    });
    if (!behind.length) return;

    const byUser = groupBy(behind, (r) => r.userId);
    const previewUsers = await this.registrations.previewUsers([...byUser.keys()]);
    const heldBack: string[] = [];
    let retryAfterMs = 0;
    for (const [userId, userRegistrations] of byUser) {
      const unread = await this.chat.unreadByConversation(userId);
      const unreadCount = unread.get(conversationId) ?? 0;
      // Only their own messages (from another of their devices) are pending: nothing to say.
      if (!unreadCount) continue;
      let badge = 0;
      for (const n of unread.values()) badge += n;
      const payload: MessagePushPayload = { type: 'message', conversationId, unreadCount, badge };
      if (previewUsers.has(userId)) {
        const member = members.get(userId)!;
        const senderName = await this.senderName(userId, conversationId, member, target.lastSeq);
        if (senderName) payload.senderName = senderName;
      }
      for (const [deviceId, deviceRegistrations] of groupBy(userRegistrations, (r) => r.deviceId)) {
        const rate = await this.withinRate(deviceId, conversationId);
        if (!rate.allowed) {
          for (const r of deviceRegistrations)
            this.outcomes.inc({ provider: r.provider, outcome: 'rate_limited' });
          heldBack.push(deviceId);
          retryAfterMs = Math.max(retryAfterMs, rate.retryAfterMs);
          continue;
        }
        for (const r of deviceRegistrations)
          await this.enqueueDelivery(r, payload, collapseKeyOf(conversationId), false);
      }
    }
    if (heldBack.length && !onlyDeviceIds) {
      await this.jobs.enqueue(
        JobName.decideConversationPush,
        { conversationId, onlyDeviceIds: heldBack },
        { delayMs: retryAfterMs + FOLLOW_UP_SLACK_MS },
      );
    }
  }

  private async senderName(
    userId: string,
    conversationId: string,
    member: { joinedSeq: number; readSeq: number },
    lastSeq: number,
  ): Promise<string | null> {
    const senderId = await this.chat.latestSenderId(
      userId,
      conversationId,
      Math.max(member.joinedSeq, member.readSeq),
      lastSeq,
    );
    if (!senderId || senderId === userId) return null;
    const [sender] = await this.users.findMany([senderId]);
    return sender?.displayName || null;
  }

  private async withinRate(deviceId: string, conversationId: string): Promise<RateDecision> {
    const limit = this.config.push.perConversationPerMinute;
    if (limit <= 0) return { allowed: true, retryAfterMs: 0 };
    return this.rateLimiter.consume(`push:${deviceId}:${conversationId}`, limit, 60_000);
  }

  // --- call pushes --------------------------------------------------------------------

  /**
   * A ringing call wakes the callees' devices that have no socket at once: no delay, no
   * collapse, no rate limit, mute does not apply. A device with a VoIP token gets only that.
   */
  private async pushCall(call: DomainEventMap['call.ringing']): Promise<void> {
    try {
      const registrations = await this.registrations.forUsers(call.calleeUserIds);
      if (!registrations.length) return;
      const connected = await this.presence.connectedDevices(call.calleeUserIds);
      const payload: PushPayload = {
        type: 'call',
        callId: call.callId,
        callerId: call.callerId,
        media: call.media,
      };
      for (const [deviceId, mine] of groupBy(registrations, (r) => r.deviceId)) {
        if (connected.has(deviceId)) continue;
        const voip = mine.filter((r) => r.provider === 'apns-voip');
        for (const r of voip.length ? voip : mine)
          await this.enqueueDelivery(r, payload, undefined, true);
      }
    } catch (error) {
      // The call rings on regardless; a push that could not be queued is only logged.
      this.logger.error({ err: error, callId: call.callId }, 'call push not queued');
    }
  }

  // --- delivery -----------------------------------------------------------------------

  private enqueueDelivery(
    r: PushRegistration,
    payload: PushPayload,
    collapseKey: string | undefined,
    urgent: boolean,
  ): Promise<void> {
    return this.jobs.enqueue(JobName.deliverPush, {
      deviceId: r.deviceId,
      provider: r.provider,
      token: r.token,
      payload: { ...payload },
      collapseKey,
      urgent,
    });
  }

  /** One push through its provider; retried with backoff, dead-lettered after the last try. */
  async deliver(job: JobPayloads['deliver-push'], ctx: JobContext): Promise<void> {
    const sender = this.senders.for(job.provider);
    try {
      const outcome = await sender.send(job.provider, job.token, {
        payload: job.payload as unknown as PushPayload,
        collapseKey: job.collapseKey,
        urgent: job.urgent,
      });
      if (outcome === 'gone')
        await this.registrations.removeToken(job.deviceId, job.provider, job.token);
      this.outcomes.inc({ provider: job.provider, outcome });
    } catch (error) {
      const last = ctx.attempt >= this.config.queue.attempts;
      this.outcomes.inc({ provider: job.provider, outcome: last ? 'dead_letter' : 'retry' });
      if (last)
        this.logger.error(
          { err: error, provider: job.provider, deviceId: job.deviceId },
          'push dead-lettered after the last try',
        );
      throw error;
    }
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
