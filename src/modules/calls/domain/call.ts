import { AppError, ErrorCode } from '../../../common/errors';

export type CallMedia = 'audio' | 'video';
export type CallEndReason = 'rejected' | 'cancelled' | 'hangup' | 'missed' | 'busy' | 'failed';
export type CallOutcome = 'completed' | 'rejected' | 'cancelled' | 'missed' | 'busy' | 'failed';
export type CallStatus = 'ringing' | 'active' | 'ended';

/** A callee still being rung, with the devices it had when the call was placed. */
export interface RingingCallee {
  userId: string;
  deviceIds: string[];
}

/** A user in the call, through the one device that joined. */
export interface JoinedDevice {
  userId: string;
  deviceId: string;
}

/**
 * A call as the state store holds it. Every transition below is a pure function of this
 * value; the store applies the result only if nobody changed the call meanwhile (`version`),
 * so concurrent actions on different instances resolve to one outcome.
 */
export interface CallState {
  id: string;
  conversationId: string;
  group: boolean;
  callerId: string;
  callerDeviceId: string;
  media: CallMedia;
  status: CallStatus;
  version: number;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  outcome: CallOutcome | null;
  ringing: RingingCallee[];
  /** The caller first, then each callee who answered and has not left. */
  joined: JoinedDevice[];
  /**
   * Callees who blocked the caller: never rung, never told, never in its history, but an
   * unanswered call waits for them until the ring timeout, so the caller cannot tell a
   * block from a call nobody picked up.
   */
  withheld: string[];
  /** Everyone the call concerns, for history: the caller and every callee rung. */
  participantIds: string[];
}

/** What a transition asks the service to tell devices, once the store has accepted it. */
export type CallEffect =
  | { kind: 'accepted'; toDeviceIds: string[]; userId: string; deviceId: string }
  | { kind: 'ended'; toDeviceIds: string[]; reason: CallEndReason | 'answered_elsewhere' }
  | { kind: 'left'; toDeviceIds: string[]; userId: string };

export interface Transition {
  next: CallState;
  effects: CallEffect[];
}

export interface NewCall {
  id: string;
  conversationId: string;
  group: boolean;
  callerId: string;
  callerDeviceId: string;
  media: CallMedia;
  ringing: RingingCallee[];
  withheld: string[];
  now: number;
}

export function newCall(input: NewCall): CallState {
  return {
    id: input.id,
    conversationId: input.conversationId,
    group: input.group,
    callerId: input.callerId,
    callerDeviceId: input.callerDeviceId,
    media: input.media,
    status: 'ringing',
    version: 1,
    startedAt: input.now,
    answeredAt: null,
    endedAt: null,
    outcome: null,
    ringing: input.ringing,
    joined: [{ userId: input.callerId, deviceId: input.callerDeviceId }],
    withheld: input.withheld,
    participantIds: [input.callerId, ...input.ringing.map((r) => r.userId)],
  };
}

/** The devices allowed to exchange signals: joined ones and those still ringing. */
export function signallingDevices(call: CallState): Set<string> {
  const devices = new Set<string>();
  if (call.status === 'ended') return devices;
  for (const j of call.joined) devices.add(j.deviceId);
  for (const r of call.ringing) for (const d of r.deviceIds) devices.add(d);
  return devices;
}

export function durationSec(call: CallState): number {
  if (call.answeredAt === null || call.endedAt === null) return 0;
  return Math.max(0, Math.round((call.endedAt - call.answeredAt) / 1000));
}

const ringingDevices = (call: CallState, exceptDeviceId?: string): string[] =>
  call.ringing.flatMap((r) => r.deviceIds).filter((d) => d !== exceptDeviceId);

const joinedDevices = (call: CallState, exceptDeviceId?: string): string[] =>
  call.joined.map((j) => j.deviceId).filter((d) => d !== exceptDeviceId);

function bump(call: CallState, patch: Partial<CallState>): CallState {
  return { ...call, ...patch, version: call.version + 1 };
}

/**
 * Ends the call: everyone still ringing or joined (but the acting device) hears why. An
 * answered call is `completed` whatever ended it.
 */
function end(
  call: CallState,
  reason: CallEndReason,
  now: number,
  exceptDeviceId?: string,
): Transition {
  const toDeviceIds = [
    ...joinedDevices(call, exceptDeviceId),
    ...ringingDevices(call, exceptDeviceId),
  ];
  const next = bump(call, {
    status: 'ended',
    endedAt: now,
    // Hanging up before an answer is a cancel (hangup() never ends an unanswered call so).
    outcome: call.answeredAt !== null ? 'completed' : reason === 'hangup' ? 'cancelled' : reason,
    ringing: [],
  });
  return { next, effects: toDeviceIds.length ? [{ kind: 'ended', toDeviceIds, reason }] : [] };
}

function requireLive(call: CallState): void {
  if (call.status === 'ended') throw AppError.notFound('Call');
}

/**
 * The user as a callee still ringing for a live call: CONFLICT (with `inCallMessage`) when
 * they already joined it, NOT_A_MEMBER when it was never theirs to answer.
 */
function ringingCallee(call: CallState, userId: string, inCallMessage: string): RingingCallee {
  requireLive(call);
  const callee = call.ringing.find((r) => r.userId === userId);
  if (callee) return callee;
  if (call.joined.some((j) => j.userId === userId)) {
    throw new AppError(ErrorCode.CONFLICT, inCallMessage);
  }
  throw AppError.notAMember();
}

/** A busy callee: the call ends before it rings anyone. */
export function busy(call: CallState, now: number): Transition {
  return end(call, 'busy', now);
}

export function accept(
  call: CallState,
  userId: string,
  deviceId: string,
  now: number,
  maxParticipants: number,
): Transition {
  const callee = ringingCallee(call, userId, 'Already answered on another device');
  if (call.joined.length >= maxParticipants) {
    throw new AppError(
      ErrorCode.GROUP_FULL,
      `At most ${maxParticipants} people can be in a call at once`,
    );
  }
  const joined = [...call.joined, { userId, deviceId }];
  const next = bump(call, {
    status: 'active',
    answeredAt: call.answeredAt ?? now,
    ringing: call.ringing.filter((r) => r.userId !== userId),
    joined,
  });
  const effects: CallEffect[] = [];
  const others = callee.deviceIds.filter((d) => d !== deviceId);
  if (others.length)
    effects.push({ kind: 'ended', toDeviceIds: others, reason: 'answered_elsewhere' });
  effects.push({
    kind: 'accepted',
    toDeviceIds: joined.map((j) => j.deviceId),
    userId,
    deviceId,
  });
  return { next, effects };
}

export function reject(call: CallState, userId: string, deviceId: string, now: number): Transition {
  const callee = ringingCallee(call, userId, 'You are in this call: hang up instead');
  const nobodyLeft =
    call.status === 'ringing' &&
    call.ringing.length === 1 &&
    call.withheld.length === 0 &&
    call.joined.length === 1;
  if (!call.group || nobodyLeft) return end(call, 'rejected', now, deviceId);
  const next = bump(call, { ringing: call.ringing.filter((r) => r.userId !== userId) });
  const others = callee.deviceIds.filter((d) => d !== deviceId);
  return {
    next,
    effects: others.length ? [{ kind: 'ended', toDeviceIds: others, reason: 'rejected' }] : [],
  };
}

export function cancel(call: CallState, userId: string, deviceId: string, now: number): Transition {
  requireLive(call);
  if (call.callerId !== userId) throw AppError.notAMember();
  if (call.status !== 'ringing') {
    throw new AppError(ErrorCode.CONFLICT, 'The call was answered: hang up instead');
  }
  return end(call, 'cancelled', now, deviceId);
}

/**
 * Leaves the call. While more than one person remains in a group call the others hear
 * `call:left`; otherwise the call ends for everyone (with `reason`). A caller hanging up
 * before anyone answered cancels; a ringing callee hanging up rejects.
 */
export function hangup(
  call: CallState,
  userId: string,
  deviceId: string,
  now: number,
  reason: 'hangup' | 'failed' = 'hangup',
): Transition {
  requireLive(call);
  if (!call.joined.some((j) => j.deviceId === deviceId)) {
    if (call.ringing.some((r) => r.userId === userId) && reason === 'hangup') {
      return reject(call, userId, deviceId, now);
    }
    throw AppError.notAMember();
  }
  if (call.status === 'ringing') {
    return end(call, reason === 'failed' ? 'failed' : 'cancelled', now, deviceId);
  }
  const joined = call.joined.filter((j) => j.deviceId !== deviceId);
  if (call.group && joined.length >= 2) {
    return {
      next: bump(call, { joined }),
      effects: [{ kind: 'left', toDeviceIds: joined.map((j) => j.deviceId), userId }],
    };
  }
  return end(call, reason, now, deviceId);
}

/**
 * The ring timer: an unanswered call ends as `missed`; in an answered group call, those still
 * ringing stop. Null when there is nothing left to time out.
 */
export function ringTimeout(call: CallState, now: number): Transition | null {
  if (call.status === 'ringing') return end(call, 'missed', now);
  if (call.status !== 'active' || !call.ringing.length) return null;
  const toDeviceIds = ringingDevices(call);
  return {
    next: bump(call, { ringing: [] }),
    effects: toDeviceIds.length ? [{ kind: 'ended', toDeviceIds, reason: 'missed' }] : [],
  };
}

/** A joined device that stayed disconnected past the grace period: it leaves as `failed`. */
export function disconnected(call: CallState, deviceId: string, now: number): Transition | null {
  if (call.status === 'ended') return null;
  const member = call.joined.find((j) => j.deviceId === deviceId);
  if (!member) return null;
  return hangup(call, member.userId, deviceId, now, 'failed');
}
