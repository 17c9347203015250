import { AppError } from '../../../common/errors';
import {
  accept,
  cancel,
  disconnected,
  durationSec,
  hangup,
  newCall,
  reject,
  ringTimeout,
  signallingDevices,
  type CallState,
  type Transition,
} from './call';

const T0 = 1_000_000;

function direct(overrides: Partial<Parameters<typeof newCall>[0]> = {}): CallState {
  return newCall({
    id: 'call',
    conversationId: 'conv',
    group: false,
    callerId: 'alice',
    callerDeviceId: 'a1',
    media: 'audio',
    ringing: [{ userId: 'bob', deviceIds: ['b1', 'b2'] }],
    withheld: [],
    now: T0,
    ...overrides,
  });
}

function group(): CallState {
  return direct({
    group: true,
    ringing: [
      { userId: 'bob', deviceIds: ['b1'] },
      { userId: 'carol', deviceIds: ['c1', 'c2'] },
      { userId: 'dave', deviceIds: ['d1'] },
    ],
  });
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('expected an AppError');
};

const endedTo = (t: Transition) =>
  t.effects.filter((e) => e.kind === 'ended').flatMap((e) => e.toDeviceIds);

describe('call state machine', () => {
  it('a new call rings its callees with the caller already joined', () => {
    const call = direct();
    expect(call.status).toBe('ringing');
    expect(call.joined).toEqual([{ userId: 'alice', deviceId: 'a1' }]);
    expect(call.participantIds).toEqual(['alice', 'bob']);
    expect([...signallingDevices(call)].sort()).toEqual(['a1', 'b1', 'b2']);
  });

  it('accepting joins that device, stops the user’s other devices, and tells everyone in the call', () => {
    const t = accept(direct(), 'bob', 'b2', T0 + 500, 8);
    expect(t.next.status).toBe('active');
    expect(t.next.answeredAt).toBe(T0 + 500);
    expect(t.next.version).toBe(2);
    expect(t.effects).toEqual([
      { kind: 'ended', toDeviceIds: ['b1'], reason: 'answered_elsewhere' },
      { kind: 'accepted', toDeviceIds: ['a1', 'b2'], userId: 'bob', deviceId: 'b2' },
    ]);
    expect([...signallingDevices(t.next)].sort()).toEqual(['a1', 'b2']);
  });

  it('a second accept by the same user is a conflict; a stranger is not a member', () => {
    const active = accept(direct(), 'bob', 'b1', T0, 8).next;
    expect(codeOf(() => accept(active, 'bob', 'b2', T0, 8))).toBe('CONFLICT');
    expect(codeOf(() => accept(active, 'mallory', 'm1', T0, 8))).toBe('NOT_A_MEMBER');
  });

  it('refuses to join beyond the participant cap', () => {
    const call = accept(group(), 'bob', 'b1', T0, 3).next;
    const full = accept(call, 'carol', 'c1', T0, 3).next;
    expect(codeOf(() => accept(full, 'dave', 'd1', T0, 3))).toBe('GROUP_FULL');
  });

  it('a 1:1 reject ends the call as rejected for the caller and the callee’s other devices', () => {
    const t = reject(direct(), 'bob', 'b1', T0 + 1000);
    expect(t.next.status).toBe('ended');
    expect(t.next.outcome).toBe('rejected');
    expect(t.effects).toEqual([{ kind: 'ended', toDeviceIds: ['a1', 'b2'], reason: 'rejected' }]);
    expect(durationSec(t.next)).toBe(0);
  });

  it('in a group only the last rejection ends an unanswered call', () => {
    let call = group();
    call = reject(call, 'bob', 'b1', T0).next;
    expect(call.status).toBe('ringing');
    const carol = reject(call, 'carol', 'c1', T0);
    expect(carol.effects).toEqual([{ kind: 'ended', toDeviceIds: ['c2'], reason: 'rejected' }]);
    const last = reject(carol.next, 'dave', 'd1', T0);
    expect(last.next.outcome).toBe('rejected');
    expect(endedTo(last)).toEqual(['a1']);
  });

  it('a group with a blocker waits for the ring timeout instead of revealing the block', () => {
    const call = direct({ group: true, withheld: ['eve'] });
    const t = reject(call, 'bob', 'b1', T0);
    expect(t.next.status).toBe('ringing');
    expect(ringTimeout(t.next, T0 + 30_000)!.next.outcome).toBe('missed');
  });

  it('only the caller cancels, and only while ringing', () => {
    expect(codeOf(() => cancel(direct(), 'bob', 'b1', T0))).toBe('NOT_A_MEMBER');
    const t = cancel(direct(), 'alice', 'a1', T0);
    expect(t.next.outcome).toBe('cancelled');
    expect(endedTo(t)).toEqual(['b1', 'b2']);
    const active = accept(direct(), 'bob', 'b1', T0, 8).next;
    expect(codeOf(() => cancel(active, 'alice', 'a1', T0))).toBe('CONFLICT');
  });

  it('hanging up an answered 1:1 call completes it with its duration', () => {
    const active = accept(direct(), 'bob', 'b1', T0 + 2000, 8).next;
    const t = hangup(active, 'alice', 'a1', T0 + 14_400);
    expect(t.next.outcome).toBe('completed');
    expect(durationSec(t.next)).toBe(12);
    expect(t.effects).toEqual([{ kind: 'ended', toDeviceIds: ['b1'], reason: 'hangup' }]);
  });

  it('the caller hanging up before an answer cancels; a ringing callee hanging up rejects', () => {
    expect(hangup(direct(), 'alice', 'a1', T0).next.outcome).toBe('cancelled');
    expect(hangup(direct(), 'bob', 'b1', T0).next.outcome).toBe('rejected');
    expect(codeOf(() => hangup(direct(), 'mallory', 'm1', T0))).toBe('NOT_A_MEMBER');
  });

  it('in a group a hangup is a leave until one person remains', () => {
    let call = group();
    call = accept(call, 'bob', 'b1', T0, 8).next;
    call = accept(call, 'carol', 'c1', T0, 8).next;
    const left = hangup(call, 'bob', 'b1', T0 + 5000);
    expect(left.next.status).toBe('active');
    expect(left.effects).toEqual([{ kind: 'left', toDeviceIds: ['a1', 'c1'], userId: 'bob' }]);
    const last = hangup(left.next, 'alice', 'a1', T0 + 9000);
    expect(last.next.status).toBe('ended');
    expect(last.next.outcome).toBe('completed');
    expect(endedTo(last)).toEqual(['c1', 'd1']);
  });

  it('the ring timeout misses an unanswered call and stops late ringers in an answered one', () => {
    const missed = ringTimeout(direct(), T0 + 30_000)!;
    expect(missed.next.outcome).toBe('missed');
    expect(endedTo(missed)).toEqual(['a1', 'b1', 'b2']);
    const answered = accept(group(), 'bob', 'b1', T0, 8).next;
    const late = ringTimeout(answered, T0 + 30_000)!;
    expect(late.next.status).toBe('active');
    expect(late.next.ringing).toEqual([]);
    expect(endedTo(late)).toEqual(['c1', 'c2', 'd1']);
    expect(ringTimeout(late.next, T0 + 31_000)).toBeNull();
  });

  it('a device that stays disconnected fails the call; others are ignored', () => {
    expect(disconnected(direct(), 'b1', T0)).toBeNull();
    const t = disconnected(direct(), 'a1', T0)!;
    expect(t.next.outcome).toBe('failed');
    expect(endedTo(t)).toEqual(['b1', 'b2']);
    const active = accept(direct(), 'bob', 'b1', T0, 8).next;
    const dropped = disconnected(active, 'a1', T0 + 3000)!;
    expect(dropped.next.outcome).toBe('completed');
    expect(dropped.effects).toEqual([{ kind: 'ended', toDeviceIds: ['b1'], reason: 'failed' }]);
  });

  it('an ended call refuses every action and relays no signals', () => {
    const ended = cancel(direct(), 'alice', 'a1', T0).next;
    expect(codeOf(() => accept(ended, 'bob', 'b1', T0, 8))).toBe('NOT_FOUND');
    expect(codeOf(() => hangup(ended, 'alice', 'a1', T0))).toBe('NOT_FOUND');
    expect(ringTimeout(ended, T0)).toBeNull();
    expect(signallingDevices(ended).size).toBe(0);
  });
});
