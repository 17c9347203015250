import type { Socket } from 'socket.io-client';
import { DomainEvents, type DomainEventMap } from '../../src/common/events/domain-events';
import { turnCredential } from '../../src/modules/calls/domain/turn-credentials';
import { connect, expectNoEvent, nextEvent, request, signIn, type Session } from '../utils/clients';
import { eventually } from '../utils/wait';
import { http } from '../utils/http';
import { backendFromEnvironment, startTestApp, type TestApp } from '../utils/test-app';
import { startTurnServer, type TurnServer } from '../utils/turn-server';
import { pingThroughRelay, type CallSide } from '../utils/webrtc-peers';

const backend = backendFromEnvironment();
const TURN_SECRET = 'calls-e2e-turn-secret-0123456789';
const RING_TIMEOUT_SEC = 2;
const GRACE_SEC = 1;

/** A signed-in device with its socket. */
interface Device extends Session {
  socket: Socket;
}

describe('calls (e2e)', () => {
  let turn: TurnServer;
  let t: TestApp;
  const sockets: Socket[] = [];
  const settings = (): Record<string, string> => ({
    CALL_RING_TIMEOUT_SEC: String(RING_TIMEOUT_SEC),
    CALL_DISCONNECT_GRACE_SEC: String(GRACE_SEC),
    CALL_MAX_PARTICIPANTS: '3',
    STUN_URLS: 'stun:127.0.0.1:3478',
    TURN_URLS: turn.url,
    TURN_SECRET,
    TURN_TTL_SEC: '600',
  });

  beforeAll(async () => {
    turn = await startTurnServer(TURN_SECRET);
    t = await startTestApp({ env: settings() });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
    await turn?.stop();
  });

  const api = (who: Session, method: string, path: string, body?: unknown) =>
    http(t.api, method, path, { token: who.accessToken, body });

  const device = async (phone?: string, on: TestApp = t): Promise<Device> => {
    const session = await signIn(on, phone);
    const socket = await connect(on, session.accessToken);
    sockets.push(socket);
    return { ...session, socket };
  };

  /** Two people who share a direct conversation (so they may call each other). */
  const pair = async (): Promise<[Device, Device, string]> => {
    const [a, b] = await Promise.all([device(), device()]);
    const res = await api(a, 'POST', '/conversations/direct', { userId: b.userId });
    expect(res.status).toBeLessThan(300);
    return [a, b, res.body.id as string];
  };

  const invite = async (from: Device, payload: object) => {
    const ack = await request(from.socket, 'call:invite', payload);
    expect(ack).toEqual({ ok: true, callId: expect.any(String) });
    return ack.callId as string;
  };

  const callEvents = (d: Device, callId: string, event: string) =>
    nextEvent(d.socket, event, (p: { callId: string }) => p.callId === callId);

  const callMessages = async (who: Session, conversationId: string) => {
    const res = await api(who, 'GET', `/conversations/${conversationId}/messages`);
    expect(res.status).toBe(200);
    return (res.body.messages as Array<{ type: string; body: string }>)
      .filter((m) => m.type === 'system')
      .map((m) => JSON.parse(m.body) as Record<string, unknown>)
      .filter((e) => e.event === 'call');
  };

  const historyOf = async (who: Session, query = '') => {
    const res = await api(who, 'GET', `/calls${query}`);
    expect(res.status).toBe(200);
    return res.body as { calls: Array<Record<string, unknown>>; nextCursor: string | null };
  };

  const iceFor = async (who: Session) => {
    const res = await api(who, 'GET', '/calls/ice-servers');
    expect(res.status).toBe(200);
    return res.body as {
      iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
      ttlSec: number;
    };
  };

  describe('ICE servers', () => {
    it('hands out STUN as configured and TURN with use-auth-secret credentials', async () => {
      const a = await signIn(t);
      const before = Math.floor(Date.now() / 1000);
      const body = await iceFor(a);
      expect(body.ttlSec).toBe(600);
      expect(body.iceServers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'] });
      const relay = body.iceServers[1];
      expect(relay.urls).toEqual([turn.url]);
      const [expiry, userId] = relay.username!.split(':');
      expect(userId).toBe(a.userId);
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
      expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
      expect(relay.credential).toBe(
        turnCredential(TURN_SECRET, a.userId, Number(expiry)).credential,
      );
    });

    it('needs a signed-in caller', async () => {
      const res = await http(t.api, 'GET', '/calls/ice-servers');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
    });
  });

  describe('a 1:1 call through a real TURN relay', () => {
    it('two WebRTC peers signal through Parley and ping-pong over a relayed data channel', async () => {
      const [a, b, conversationId] = await pair();
      const incoming = nextEvent(b.socket, 'call:incoming');
      const callId = await invite(a, { calleeId: b.userId, media: 'video' });
      expect(await incoming).toEqual({
        callId,
        conversationId,
        callerId: a.userId,
        callerDeviceId: a.deviceId,
        media: 'video',
      });
      const accepted = callEvents(a, callId, 'call:accepted');
      expect(await request(b.socket, 'call:accept', { callId })).toEqual({ ok: true });
      expect(await accepted).toEqual({ callId, userId: b.userId, deviceId: b.deviceId });

      const side = async (d: Device): Promise<CallSide> => ({
        socket: d.socket,
        deviceId: d.deviceId,
        iceServers: (await iceFor(d)).iceServers.filter((s) => s.credential),
      });
      const exchange = await pingThroughRelay(callId, await side(a), await side(b));
      expect(exchange.reply).toBe('pong');
      expect(exchange.candidateTypes.length).toBeGreaterThan(0);
      expect(new Set(exchange.candidateTypes)).toEqual(new Set(['relay']));

      const ended = callEvents(b, callId, 'call:ended');
      expect(await request(a.socket, 'call:hangup', { callId })).toEqual({ ok: true });
      expect(await ended).toEqual({ callId, reason: 'hangup' });
      await eventually(async () => {
        const [record] = (await historyOf(b)).calls;
        expect(record).toMatchObject({
          id: callId,
          conversationId,
          callerId: a.userId,
          media: 'video',
          outcome: 'completed',
          answeredAt: expect.any(String),
        });
        expect(record.durationSec).toEqual(expect.any(Number));
        expect(await callMessages(a, conversationId)).toEqual([
          {
            event: 'call',
            callId,
            media: 'video',
            outcome: 'completed',
            durationSec: record.durationSec,
          },
        ]);
      });
    }, 40_000);

    it('wrong or expired TURN credentials open no channel', async () => {
      const [a, b] = await pair();
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect((await request(b.socket, 'call:accept', { callId })).ok).toBe(true);
      const now = Math.floor(Date.now() / 1000);
      const wrong = {
        urls: [turn.url],
        username: `${now + 600}:${a.userId}`,
        credential: 'bm9wZQ==',
      };
      const expired = { urls: [turn.url], ...turnCredential(TURN_SECRET, b.userId, now - 60) };
      const sideOf = (d: Device, server: typeof wrong): CallSide => ({
        socket: d.socket,
        deviceId: d.deviceId,
        iceServers: [server],
      });
      await expect(
        pingThroughRelay(callId, sideOf(a, wrong), sideOf(b, wrong), 5000),
      ).rejects.toThrow('no data channel');
      await expect(
        pingThroughRelay(callId, sideOf(a, expired), sideOf(b, expired), 5000),
      ).rejects.toThrow('no data channel');
      await request(a.socket, 'call:hangup', { callId });
    }, 40_000);
  });

  describe('ringing and answering', () => {
    it('rings every device of the callee; the first to accept wins, the others stop', async () => {
      const [a, b1] = await pair();
      const b2 = await device(b1.phone);
      const ringing = [b1, b2].map((d) => nextEvent(d.socket, 'call:incoming'));
      const callId = await invite(a, { calleeId: b1.userId, media: 'audio' });
      await Promise.all(ringing);
      // Both ringing devices may signal the caller before anyone answers (early ICE).
      const early = nextEvent(a.socket, 'call:signal');
      expect(
        await request(b1.socket, 'call:signal', {
          callId,
          toDeviceId: a.deviceId,
          data: { type: 'ping' },
        }),
      ).toEqual({ ok: true });
      expect(await early).toEqual({
        callId,
        fromUserId: b1.userId,
        fromDeviceId: b1.deviceId,
        data: { type: 'ping' },
      });

      const elsewhere = callEvents(b1, callId, 'call:ended');
      const accepted = callEvents(a, callId, 'call:accepted');
      expect(await request(b2.socket, 'call:accept', { callId })).toEqual({ ok: true });
      expect(await elsewhere).toEqual({ callId, reason: 'answered_elsewhere' });
      expect(await accepted).toEqual({ callId, userId: b1.userId, deviceId: b2.deviceId });

      const late = await request(b1.socket, 'call:accept', { callId });
      expect(late.error.code).toBe('CONFLICT');
      const stale = await request(b1.socket, 'call:signal', {
        callId,
        toDeviceId: a.deviceId,
        data: { type: 'ping' },
      });
      expect(stale.error.code).toBe('NOT_A_MEMBER');
      await request(b2.socket, 'call:hangup', { callId });
    });

    it('publishes call.ringing with the callees, for pushes to offline devices', async () => {
      const [a, b, conversationId] = await pair();
      const seen: Array<DomainEventMap['call.ringing']> = [];
      t.app.get(DomainEvents).on('call.ringing', (event) => {
        if (event.callerId === a.userId) seen.push(event);
      });
      b.socket.close();
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect(seen).toEqual([
        {
          callId,
          conversationId,
          callerId: a.userId,
          callerDeviceId: a.deviceId,
          media: 'audio',
          calleeUserIds: [b.userId],
        },
      ]);
      await request(a.socket, 'call:cancel', { callId });
      // Back online, the callee's device learns of the call through sync.
      await eventually(async () => {
        const synced = await api(b, 'GET', '/sync');
        expect(synced.status).toBe(200);
        const bodies = (synced.body.messages as Array<{ type: string; body: string }>)
          .filter((m) => m.type === 'system')
          .map((m) => JSON.parse(m.body) as Record<string, unknown>);
        expect(bodies).toContainEqual(
          expect.objectContaining({ event: 'call', callId, outcome: 'cancelled' }),
        );
      });
    });

    it('a rejection ends the call for the caller and the callee’s other devices', async () => {
      const [a, b1, conversationId] = await pair();
      const b2 = await device(b1.phone);
      const ringing = nextEvent(b2.socket, 'call:incoming');
      const callId = await invite(a, { calleeId: b1.userId, media: 'audio' });
      await ringing;
      const toCaller = callEvents(a, callId, 'call:ended');
      const toOther = callEvents(b2, callId, 'call:ended');
      expect(await request(b1.socket, 'call:reject', { callId })).toEqual({ ok: true });
      expect(await toCaller).toEqual({ callId, reason: 'rejected' });
      expect(await toOther).toEqual({ callId, reason: 'rejected' });
      await eventually(async () => {
        expect((await historyOf(a)).calls[0]).toMatchObject({
          id: callId,
          outcome: 'rejected',
          answeredAt: null,
          durationSec: 0,
        });
        expect((await callMessages(b1, conversationId))[0]).toMatchObject({
          callId,
          outcome: 'rejected',
          durationSec: 0,
        });
      });
    });

    it('the caller cancels while it rings; a callee cannot cancel', async () => {
      const [a, b] = await pair();
      const ringing = nextEvent(b.socket, 'call:incoming');
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      await ringing;
      expect((await request(b.socket, 'call:cancel', { callId })).error.code).toBe('NOT_A_MEMBER');
      const ended = callEvents(b, callId, 'call:ended');
      expect(await request(a.socket, 'call:cancel', { callId })).toEqual({ ok: true });
      expect(await ended).toEqual({ callId, reason: 'cancelled' });
      expect((await request(b.socket, 'call:accept', { callId })).error.code).toBe('NOT_FOUND');
      await eventually(async () =>
        expect((await historyOf(b)).calls[0]).toMatchObject({ id: callId, outcome: 'cancelled' }),
      );
    });

    it('an unanswered call ends as missed after the ring timeout', async () => {
      const [a, b] = await pair();
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      const started = Date.now();
      const toCaller = callEvents(a, callId, 'call:ended');
      const toCallee = callEvents(b, callId, 'call:ended');
      expect(await toCaller).toEqual({ callId, reason: 'missed' });
      expect(await toCallee).toEqual({ callId, reason: 'missed' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(RING_TIMEOUT_SEC * 1000 - 100);
      await eventually(async () =>
        expect((await historyOf(b)).calls[0]).toMatchObject({ id: callId, outcome: 'missed' }),
      );
    });

    it('a callee already in a call answers busy at once', async () => {
      const [a, b] = await pair();
      const c = await device();
      await api(c, 'POST', '/conversations/direct', { userId: b.userId });
      const first = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect((await request(b.socket, 'call:accept', { callId: first })).ok).toBe(true);
      const ended = nextEvent(c.socket, 'call:ended');
      const second = await invite(c, { calleeId: b.userId, media: 'audio' });
      expect(await ended).toEqual({ callId: second, reason: 'busy' });
      await eventually(async () =>
        expect((await historyOf(c)).calls[0]).toMatchObject({ id: second, outcome: 'busy' }),
      );
      await request(a.socket, 'call:hangup', { callId: first });
    });

    it('one call at a time: a second outgoing call while one rings is refused', async () => {
      const [a, b] = await pair();
      const c = await device();
      await api(a, 'POST', '/conversations/direct', { userId: c.userId });
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      const second = await request(a.socket, 'call:invite', { calleeId: c.userId, media: 'audio' });
      expect(second.error.code).toBe('CONFLICT');
      await request(a.socket, 'call:cancel', { callId });
      // Once it has ended, the caller is free again.
      const third = await invite(a, { calleeId: c.userId, media: 'audio' });
      await request(a.socket, 'call:cancel', { callId: third });
    });

    it('a caller whose socket drops ends the call as failed after the grace period', async () => {
      const [a, b] = await pair();
      const ringing = nextEvent(b.socket, 'call:incoming');
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      await ringing;
      const ended = callEvents(b, callId, 'call:ended');
      const dropped = Date.now();
      a.socket.close();
      expect(await ended).toEqual({ callId, reason: 'failed' });
      expect(Date.now() - dropped).toBeGreaterThanOrEqual(GRACE_SEC * 1000 - 100);
      await eventually(async () =>
        expect((await historyOf(b)).calls[0]).toMatchObject({ id: callId, outcome: 'failed' }),
      );
    });

    it('a caller who reconnects within the grace period stays in the call', async () => {
      const [a, b] = await pair();
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect((await request(b.socket, 'call:accept', { callId })).ok).toBe(true);
      a.socket.close();
      const again = await connect(t, a.accessToken);
      sockets.push(again);
      expect(await expectNoEvent(b.socket, 'call:ended', GRACE_SEC * 1000 + 500)).toBe(true);
      const ended = callEvents(b, callId, 'call:ended');
      expect(await request(again, 'call:hangup', { callId })).toEqual({ ok: true });
      expect(await ended).toEqual({ callId, reason: 'hangup' });
    });
  });

  describe('group calls', () => {
    it('rings the other members; a hangup is a leave until one remains', async () => {
      const [a, b, c, d] = await Promise.all([device(), device(), device(), device()]);
      const group = await api(a, 'POST', '/groups', {
        name: 'call group',
        memberIds: [b.userId, c.userId, d.userId],
      });
      expect(group.status).toBe(201);
      const groupId = group.body.id as string;
      const ringing = [b, c, d].map((x) => nextEvent(x.socket, 'call:incoming'));
      const callId = await invite(a, { conversationId: groupId, media: 'video' });
      for (const event of await Promise.all(ringing)) {
        expect(event).toMatchObject({ callId, conversationId: groupId, callerId: a.userId });
      }
      const bJoined = callEvents(a, callId, 'call:accepted');
      expect(await request(b.socket, 'call:accept', { callId })).toEqual({ ok: true });
      expect(await bJoined).toMatchObject({ userId: b.userId });
      const cJoined = callEvents(b, callId, 'call:accepted');
      expect(await request(c.socket, 'call:accept', { callId })).toEqual({ ok: true });
      expect(await cJoined).toMatchObject({ userId: c.userId, deviceId: c.deviceId });
      // CALL_MAX_PARTICIPANTS is 3 here: the fourth cannot join.
      expect((await request(d.socket, 'call:accept', { callId })).error.code).toBe('GROUP_FULL');

      const leftForA = callEvents(a, callId, 'call:left');
      const leftForC = callEvents(c, callId, 'call:left');
      expect(await request(b.socket, 'call:hangup', { callId })).toEqual({ ok: true });
      expect(await leftForA).toEqual({ callId, userId: b.userId });
      expect(await leftForC).toEqual({ callId, userId: b.userId });

      const ended = callEvents(c, callId, 'call:ended');
      expect(await request(a.socket, 'call:hangup', { callId })).toEqual({ ok: true });
      expect(await ended).toEqual({ callId, reason: 'hangup' });
      await eventually(async () => {
        expect((await callMessages(d, groupId))[0]).toMatchObject({
          callId,
          outcome: 'completed',
        });
        expect((await historyOf(d)).calls[0]).toMatchObject({ id: callId, outcome: 'completed' });
      });
    });
    it('a plain member may call a group where only admins send; its record still lands', async () => {
      const [admin, member, other] = await Promise.all([device(), device(), device()]);
      const group = await api(admin, 'POST', '/groups', {
        name: 'announcements',
        memberIds: [member.userId, other.userId],
      });
      const groupId = group.body.id as string;
      expect(
        (await api(admin, 'PATCH', `/groups/${groupId}`, { onlyAdminsCanSend: true })).status,
      ).toBe(200);
      const ringing = nextEvent(other.socket, 'call:incoming');
      const callId = await invite(member, { conversationId: groupId, media: 'audio' });
      await ringing;
      expect((await request(other.socket, 'call:accept', { callId })).ok).toBe(true);
      const ended = callEvents(other, callId, 'call:ended');
      expect(await request(member.socket, 'call:hangup', { callId })).toEqual({ ok: true });
      expect(await ended).toEqual({ callId, reason: 'hangup' });
      await eventually(async () =>
        expect((await callMessages(admin, groupId))[0]).toMatchObject({
          callId,
          outcome: 'completed',
        }),
      );
    });
  });

  describe('who may call whom', () => {
    it('strangers, unknown users and other people’s groups are NOT_A_MEMBER', async () => {
      const [a, b] = await Promise.all([device(), device()]);
      const [x, y] = await pair();
      const group = await api(x, 'POST', '/groups', { name: 'theirs', memberIds: [y.userId] });
      const refused = async (payload: object) =>
        (await request(a.socket, 'call:invite', payload)).error.code as string;
      expect(await refused({ calleeId: b.userId, media: 'audio' })).toBe('NOT_A_MEMBER');
      expect(
        await refused({ calleeId: '0190a000-0000-7000-8000-000000000000', media: 'audio' }),
      ).toBe('NOT_A_MEMBER');
      expect(await refused({ conversationId: group.body.id, media: 'audio' })).toBe('NOT_A_MEMBER');
      expect(await expectNoEvent(b.socket, 'call:incoming', 200)).toBe(true);
      // A contact may be called without any conversation yet; it is created for the call.
      expect((await api(a, 'PUT', '/contacts', { phones: [b.phone] })).status).toBe(200);
      const ringing = nextEvent(b.socket, 'call:incoming');
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      const { conversationId } = await ringing;
      expect((await api(a, 'POST', '/conversations/direct', { userId: b.userId })).body.id).toBe(
        conversationId,
      );
      await request(a.socket, 'call:cancel', { callId });
    });

    it('a callee who blocked the caller never rings, and the caller sees a missed call', async () => {
      const [a, b, conversationId] = await pair();
      expect((await api(b, 'POST', `/users/${a.userId}/block`)).status).toBeLessThan(300);
      const nothing = expectNoEvent(b.socket, 'call:incoming', RING_TIMEOUT_SEC * 1000 + 500);
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect(await callEvents(a, callId, 'call:ended')).toEqual({ callId, reason: 'missed' });
      expect(await nothing).toBe(true);
      await eventually(async () => {
        expect((await historyOf(a)).calls[0]).toMatchObject({ id: callId, outcome: 'missed' });
        expect((await callMessages(a, conversationId))[0]).toMatchObject({ callId });
      });
      expect((await historyOf(b)).calls.map((c) => c.id)).not.toContain(callId);
      expect(await callMessages(b, conversationId)).toEqual([]);
    }, 20_000);
  });

  describe('history', () => {
    it('pages through GET /calls, newest first', async () => {
      const [a, b] = await pair();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
        await request(a.socket, 'call:cancel', { callId });
        ids.push(callId);
      }
      await eventually(async () => expect((await historyOf(b)).calls).toHaveLength(3));
      const first = await historyOf(b, '?limit=2');
      expect(first.calls.map((c) => c.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextCursor).toBe(ids[1]);
      const second = await historyOf(b, `?limit=2&cursor=${first.nextCursor}`);
      expect(second.calls.map((c) => c.id)).toEqual([ids[0]]);
      expect(second.nextCursor).toBeNull();
      expect((await api(b, 'GET', '/calls?limit=0')).body.code).toBe('VALIDATION_FAILED');
      expect((await api(b, 'GET', '/calls?cursor=nope')).body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('bad input', () => {
    it('refuses junk call:* payloads with codes and keeps the socket', async () => {
      const [a, b] = await pair();
      const code = async (event: string, payload: unknown) =>
        (await request(a.socket, event, payload)).error?.code as string | undefined;
      for (const payload of [
        undefined,
        null,
        [],
        'x',
        {},
        { calleeId: 'nope', media: 'audio' },
        { calleeId: b.userId },
        { calleeId: b.userId, media: 'hologram' },
        { calleeId: b.userId, conversationId: b.userId, media: 'audio' },
        { calleeId: b.userId, media: 'audio', extra: 1 },
      ]) {
        expect(await code('call:invite', payload)).toBe('VALIDATION_FAILED');
      }
      for (const event of ['call:accept', 'call:reject', 'call:cancel', 'call:hangup']) {
        expect(await code(event, { callId: 12 })).toBe('VALIDATION_FAILED');
        expect(await code(event, {})).toBe('VALIDATION_FAILED');
        expect(await code(event, { callId: '0190a000-0000-7000-8000-000000000000' })).toBe(
          'NOT_FOUND',
        );
      }
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      expect(await code('call:signal', { callId, toDeviceId: b.deviceId })).toBe(
        'VALIDATION_FAILED',
      );
      expect(
        await code('call:signal', {
          callId,
          toDeviceId: b.deviceId,
          data: { sdp: 'x'.repeat(70_000) },
        }),
      ).toBe('PAYLOAD_TOO_LARGE');
      // Just under the limit is relayed.
      const big = nextEvent(b.socket, 'call:signal');
      expect(
        await code('call:signal', {
          callId,
          toDeviceId: b.deviceId,
          data: { sdp: 'x'.repeat(60_000) },
        }),
      ).toBeUndefined();
      expect((await big).data.sdp).toHaveLength(60_000);
      expect((await request(a.socket, 'sync', {})).ok).toBe(true);
      await request(a.socket, 'call:cancel', { callId });
    });

    it('refuses signals to or from devices outside the call', async () => {
      const [a, b] = await pair();
      const outsider = await device();
      const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
      const toOutsider = await request(a.socket, 'call:signal', {
        callId,
        toDeviceId: outsider.deviceId,
        data: { type: 'offer', sdp: 'v=0' },
      });
      expect(toOutsider.error.code).toBe('NOT_A_MEMBER');
      const fromOutsider = await request(outsider.socket, 'call:signal', {
        callId,
        toDeviceId: b.deviceId,
        data: { type: 'offer', sdp: 'v=0' },
      });
      expect(fromOutsider.error.code).toBe('NOT_A_MEMBER');
      expect((await request(outsider.socket, 'call:accept', { callId })).error.code).toBe(
        'NOT_A_MEMBER',
      );
      expect((await request(outsider.socket, 'call:hangup', { callId })).error.code).toBe(
        'NOT_A_MEMBER',
      );
      expect(await expectNoEvent(outsider.socket, 'call:signal', 100)).toBe(true);
      await request(a.socket, 'call:cancel', { callId });
    });
  });

  // A second instance on the same PostgreSQL and Redis: only in the scaled shape.
  if (backend.databaseUrl && backend.redisUrl)
    describe('across instances', () => {
      let t2: TestApp;

      beforeAll(async () => {
        t2 = await startTestApp({ databaseUrl: t.config.database.url, env: settings() });
      }, 60_000);
      afterAll(async () => {
        await t2?.close();
      });

      it('a callee on another instance accepts a call placed on this one', async () => {
        const [a, b1] = await pair();
        const b2 = await device(b1.phone, t2);
        const ringing = nextEvent(b2.socket, 'call:incoming');
        const callId = await invite(a, { calleeId: b1.userId, media: 'audio' });
        await ringing;
        const accepted = callEvents(a, callId, 'call:accepted');
        const elsewhere = callEvents(b1, callId, 'call:ended');
        expect(await request(b2.socket, 'call:accept', { callId })).toEqual({ ok: true });
        expect(await accepted).toEqual({ callId, userId: b1.userId, deviceId: b2.deviceId });
        expect(await elsewhere).toEqual({ callId, reason: 'answered_elsewhere' });
        // Signals cross instances both ways.
        const toCallee = nextEvent(b2.socket, 'call:signal');
        await request(a.socket, 'call:signal', { callId, toDeviceId: b2.deviceId, data: [1] });
        expect(await toCallee).toMatchObject({ callId, fromDeviceId: a.deviceId, data: [1] });
        // The ring timer of the placing instance fires later and changes nothing.
        expect(await expectNoEvent(b2.socket, 'call:ended', RING_TIMEOUT_SEC * 1000 + 300)).toBe(
          true,
        );
        const ended = callEvents(a, callId, 'call:ended');
        expect(await request(b2.socket, 'call:hangup', { callId })).toEqual({ ok: true });
        expect(await ended).toEqual({ callId, reason: 'hangup' });
        await eventually(async () =>
          expect((await historyOf(a)).calls[0]).toMatchObject({
            id: callId,
            outcome: 'completed',
          }),
        );
      });

      it('two devices accepting at once on two instances: exactly one wins', async () => {
        const [a, b1] = await pair();
        const b2 = await device(b1.phone, t2);
        const ringing = [b1, b2].map((d) => nextEvent(d.socket, 'call:incoming'));
        const callId = await invite(a, { calleeId: b1.userId, media: 'video' });
        await Promise.all(ringing);
        const answers = await Promise.all(
          [b1, b2].map((d) => request(d.socket, 'call:accept', { callId })),
        );
        expect(answers.filter((r) => r.ok)).toHaveLength(1);
        expect(answers.find((r) => !r.ok).error.code).toBe('CONFLICT');
        const winner = answers[0].ok ? b1 : b2;
        const ended = callEvents(a, callId, 'call:ended');
        expect(await request(winner.socket, 'call:hangup', { callId })).toEqual({ ok: true });
        expect(await ended).toEqual({ callId, reason: 'hangup' });
      });

      it('a caller whose socket drops on one instance fails the call for a callee on another', async () => {
        const [a, b] = await pair();
        const b2 = await device(b.phone, t2);
        const callId = await invite(a, { calleeId: b.userId, media: 'audio' });
        expect((await request(b2.socket, 'call:accept', { callId })).ok).toBe(true);
        const ended = callEvents(b2, callId, 'call:ended');
        a.socket.close();
        expect(await ended).toEqual({ callId, reason: 'failed' });
      });
    });
});
