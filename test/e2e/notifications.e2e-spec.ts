import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import webpush from 'web-push';
import { DomainEvents } from '../../src/common/events/domain-events';
import { PushRegistrationRepository } from '../../src/modules/notifications/ports/push-registration.repository';
import { connect, request, signIn, sleep, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { PushReceiver, type ReceivedPush } from '../utils/push-receiver';
import { startServerProcess, type ServerProcess } from '../utils/processes';
import {
  backendFromEnvironment,
  freshDatabase,
  startTestApp,
  type TestApp,
} from '../utils/test-app';

const DELAY_MS = 1500;
/** Long enough for a decision job and its delivery job to have run. */
const SETTLE_MS = DELAY_MS + 1500;

const MESSAGE_KEYS = ['badge', 'conversationId', 'type', 'unreadCount'];

/** No body and no name in a push unless previews are on. */
function expectContentFree(push: ReceivedPush, secrets: readonly string[]): void {
  const text = JSON.stringify(push.payload);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('notifications', () => {
  let t: TestApp;
  let receiver: PushReceiver;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    receiver = await new PushReceiver().start();
    // Scaled deployments share VAPID keys through settings (the embedded default makes its own).
    const vapid = backendFromEnvironment().redisUrl ? webpush.generateVAPIDKeys() : null;
    t = await startTestApp({
      env: {
        ...(vapid
          ? { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }
          : {}),
        PUSH_DELAY_MS: String(DELAY_MS),
        PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
        PUSH_PER_CONVERSATION_PER_MINUTE: '1',
      },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
    await receiver?.close();
  });

  const api = (s: Session, method: string, path: string, body?: unknown) =>
    http(t.api, method, path, { token: s.accessToken, body });

  /** A user with a display name, so tests can check the name never leaks. */
  const user = async (name: string): Promise<Session> => {
    const s = await signIn(t);
    expect((await api(s, 'PATCH', '/users/me', { displayName: name })).status).toBe(200);
    return s;
  };

  const register = async (s: Session, kind: 'webpush' | 'unifiedpush') => {
    const endpoint =
      kind === 'webpush' ? receiver.webPushSubscription() : receiver.unifiedPushEndpoint();
    const res = await api(s, 'PUT', `/devices/${s.deviceId}/push`, {
      provider: kind,
      token: endpoint.token,
    });
    expect(res.status).toBe(204);
    return endpoint.id;
  };

  const send = async (from: Session, to: Session, body: string): Promise<string> => {
    const res = await api(from, 'POST', '/messages', {
      clientMsgId: randomUUID(),
      recipientId: to.userId,
      type: 'text',
      body,
    });
    expect(res.status).toBe(201);
    return res.body.conversationId as string;
  };

  it('registers push tokens for your own devices only, and checks provider and token', async () => {
    const alice = await signIn(t);
    const bob = await signIn(t);
    await register(alice, 'unifiedpush');
    const ok = { provider: 'unifiedpush', token: receiver.unifiedPushEndpoint().token };
    const other = await api(alice, 'PUT', `/devices/${bob.deviceId}/push`, ok);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('FORBIDDEN');
    for (const bad of [
      { provider: 'pigeon', token: 'x' },
      { provider: 'webpush', token: 'not a subscription' },
      { provider: 'apns', token: 'short' },
      { provider: 'unifiedpush', token: 'ftp://example.com/x' },
      { provider: 'fcm' },
    ]) {
      const res = await api(alice, 'PUT', `/devices/${alice.deviceId}/push`, bad);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    const repo = t.app.get(PushRegistrationRepository);
    expect(await repo.forDevice(alice.deviceId)).toHaveLength(1);
    expect((await api(alice, 'DELETE', `/devices/${alice.deviceId}/push`)).status).toBe(204);
    expect(await repo.forDevice(alice.deviceId)).toEqual([]);

    // Logging out and removing a device drop their tokens too.
    await register(alice, 'unifiedpush');
    expect((await api(alice, 'POST', '/auth/logout')).status).toBe(204);
    expect(await repo.forDevice(alice.deviceId)).toEqual([]);
    const phone = await signIn(t, bob.phone);
    await register(phone, 'unifiedpush');
    expect((await api(bob, 'DELETE', `/devices/${phone.deviceId}`)).status).toBe(204);
    expect(await repo.forDevice(phone.deviceId)).toEqual([]);
  });

  it('gives an offline device one collapsed push for a burst, with its unread count and badge', async () => {
    const alice = await user('Alice Burst');
    const carol = await user('Carol Other');
    const bob = await user('Bob Offline');
    const endpoint = await register(bob, 'webpush');
    // Two unread elsewhere count in the badge.
    const elsewhere = await send(carol, bob, 'secret elsewhere 1');
    await send(carol, bob, 'secret elsewhere 2');
    const bodies = Array.from({ length: 20 }, (_, i) => `secret burst body ${i}`);
    const conversationId = await send(alice, bob, bodies[0]);
    // The rest as a client bursts them: pipelined on one socket.
    const socket = await connect(t, alice.accessToken);
    sockets.push(socket);
    const acks = await Promise.all(
      bodies.slice(1).map((body) =>
        request(socket, 'message:send', {
          clientMsgId: randomUUID(),
          conversationId,
          type: 'text',
          body,
        }),
      ),
    );
    expect(acks.every((a) => a.ok)).toBe(true);
    socket.close();
    await sleep(SETTLE_MS);

    const forBurst = receiver
      .for(endpoint)
      .filter((p) => p.payload.conversationId === conversationId);
    expect(forBurst).toHaveLength(1);
    const [push] = forBurst;
    expect(push.kind).toBe('webpush');
    expect(push.payload).toEqual({ type: 'message', conversationId, unreadCount: 20, badge: 22 });
    expect(push.headers.topic).toBe(conversationId.replace(/-/g, ''));
    expectContentFree(push, [...bodies, 'secret elsewhere', 'Alice', 'Carol', 'Bob']);
    const other = receiver.for(endpoint).filter((p) => p.payload.conversationId === elsewhere);
    expect(other).toHaveLength(1);
    expect(Object.keys(other[0].payload).sort()).toEqual(MESSAGE_KEYS);
  });

  it('pushes nothing to a device that connects and syncs within the delay', async () => {
    const alice = await user('Alice Sync');
    const bob = await user('Bob Sync');
    const endpoint = await register(bob, 'unifiedpush');
    const conversationId = await send(alice, bob, 'hello there');
    const socket = await connect(t, bob.accessToken);
    sockets.push(socket);
    const synced = await request(socket, 'sync', {});
    expect(synced.messages).toHaveLength(1);
    const ack = await request(socket, 'message:ack', {
      conversationId,
      seq: synced.messages[0].seq,
      status: 'delivered',
    });
    expect(ack.ok).toBe(true);
    // Gone again before the decision: only the caught-up position keeps the push away.
    socket.close();
    await sleep(SETTLE_MS);
    expect(receiver.for(endpoint)).toEqual([]);

    // While a socket is connected nothing is pushed either, caught up or not.
    const live = await connect(t, bob.accessToken);
    sockets.push(live);
    await sleep(200);
    await send(alice, bob, 'while connected');
    await sleep(SETTLE_MS);
    expect(receiver.for(endpoint)).toEqual([]);
    live.close();
  });

  it('pushes nothing for a muted conversation until the mute ends; conversations show mutedUntil', async () => {
    const alice = await user('Alice Mute');
    const bob = await user('Bob Mute');
    const endpoint = await register(bob, 'unifiedpush');
    const direct = await api(bob, 'POST', '/conversations/direct', { userId: alice.userId });
    const conversationId = direct.body.id as string;
    expect(direct.body.mutedUntil).toBeNull();

    const bad = await api(bob, 'PUT', `/conversations/${conversationId}/mute`, { until: 'soon' });
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    const stranger = await signIn(t);
    const notMine = await api(stranger, 'PUT', `/conversations/${conversationId}/mute`, {
      until: 'forever',
    });
    expect(notMine.body.code).toBe('NOT_A_MEMBER');

    expect(
      (await api(bob, 'PUT', `/conversations/${conversationId}/mute`, { until: 'forever' })).status,
    ).toBe(204);
    expect((await api(bob, 'GET', `/conversations/${conversationId}`)).body.mutedUntil).toBe(
      'forever',
    );
    const until = new Date(Date.now() + DELAY_MS + 2000).toISOString();
    expect((await api(bob, 'PUT', `/conversations/${conversationId}/mute`, { until })).status).toBe(
      204,
    );
    expect((await api(bob, 'GET', `/conversations/${conversationId}`)).body.mutedUntil).toBe(until);
    await send(alice, bob, 'muted one');
    await sleep(SETTLE_MS);
    expect(receiver.for(endpoint)).toEqual([]);

    await sleep(Math.max(0, Date.parse(until) - Date.now()) + 50);
    expect((await api(bob, 'GET', `/conversations/${conversationId}`)).body.mutedUntil).toBeNull();
    await send(alice, bob, 'after the mute');
    await sleep(SETTLE_MS);
    const pushes = receiver.for(endpoint);
    expect(pushes).toHaveLength(1);
    expect(pushes[0].payload).toEqual({
      type: 'message',
      conversationId,
      unreadCount: 2,
      badge: 2,
    });
  });

  it('pushes at most once a minute per device and conversation, then once with the counts then; with previews on, adds the sender name', async () => {
    const alice = await user('Alice Preview');
    const bob = await user('Bob Preview');
    const endpoint = await register(bob, 'webpush');
    expect((await api(bob, 'PUT', '/users/me/notifications', { preview: true })).status).toBe(204);
    const conversationId = await send(alice, bob, 'first');
    await sleep(SETTLE_MS);
    await send(alice, bob, 'second, a window later');
    await sleep(SETTLE_MS);
    const pushes = receiver.for(endpoint);
    expect(pushes).toHaveLength(1);
    expect(pushes[0].payload).toEqual({
      type: 'message',
      conversationId,
      unreadCount: 1,
      badge: 1,
      senderName: 'Alice Preview',
    });
    expectContentFree(pushes[0], ['first', 'second']);
    const metrics = await http(t.url, 'GET', '/metrics');
    expect(String(metrics.body)).toMatch(
      /parley_push_total\{provider="webpush",outcome="rate_limited"\} [1-9]/,
    );

    // Once the minute is over, the held-back device gets one push with the counts then.
    const deadline = pushes[0].at + 60_000 + SETTLE_MS;
    while (receiver.for(endpoint).length < 2 && Date.now() < deadline) await sleep(250);
    const later = receiver.for(endpoint);
    expect(later).toHaveLength(2);
    expect(later[1].at - pushes[0].at).toBeGreaterThanOrEqual(60_000);
    expect(later[1].payload).toEqual({
      type: 'message',
      conversationId,
      unreadCount: 2,
      badge: 2,
      senderName: 'Alice Preview',
    });
    await sleep(SETTLE_MS);
    expect(receiver.for(endpoint)).toHaveLength(2);
  }, 120_000);

  it('drops a token the push service reports gone', async () => {
    const alice = await user('Alice Gone');
    const bob = await user('Bob Gone');
    const endpoint = await register(bob, 'unifiedpush');
    receiver.markGone(endpoint);
    await send(alice, bob, 'to nowhere');
    const repo = t.app.get(PushRegistrationRepository);
    const deadline = Date.now() + SETTLE_MS + 2000;
    while ((await repo.forDevice(bob.deviceId)).length && Date.now() < deadline) await sleep(100);
    expect(await repo.forDevice(bob.deviceId)).toEqual([]);
  });

  it('pushes an incoming call at once to the callee devices without a socket, muted or not', async () => {
    const alice = await user('Alice Caller');
    const bob = await user('Bob Callee');
    const bobPhone = await signIn(t, bob.phone);
    const offline = await register(bob, 'webpush');
    const online = await register(bobPhone, 'unifiedpush');
    const socket = await connect(t, bobPhone.accessToken);
    sockets.push(socket);
    const direct = await api(bob, 'POST', '/conversations/direct', { userId: alice.userId });
    const conversationId = direct.body.id as string;
    await api(bob, 'PUT', `/conversations/${conversationId}/mute`, { until: 'forever' });
    await sleep(200);

    const callId = randomUUID();
    const started = Date.now();
    await t.app.get(DomainEvents).publish('call.ringing', {
      callId,
      conversationId,
      callerId: alice.userId,
      callerDeviceId: alice.deviceId,
      media: 'video',
      calleeUserIds: [bob.userId],
    });
    const deadline = started + 1000;
    while (!receiver.for(offline).length && Date.now() < deadline) await sleep(10);
    const [push] = receiver.for(offline);
    expect(push).toBeDefined();
    expect(push.at - started).toBeLessThan(1000);
    expect(push.payload).toEqual({ type: 'call', callId, callerId: alice.userId, media: 'video' });
    expect(push.headers.urgency).toBe('high');
    expect(push.headers.topic).toBeUndefined();
    await sleep(300);
    expect(receiver.for(online)).toEqual([]);
    socket.close();
  });
});

describe('notifications with private endpoints refused (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses loopback, private and link-local endpoints and plain http', async () => {
    const s = await signIn(t);
    const receiver = new PushReceiver();
    const webPush = (endpoint: string) => {
      receiver.base = endpoint;
      return receiver.webPushSubscription().token;
    };
    for (const [provider, token] of [
      ['unifiedpush', 'https://127.0.0.1/up/x'],
      ['unifiedpush', 'https://localhost/up/x'],
      ['unifiedpush', 'https://[::1]/up/x'],
      ['unifiedpush', 'https://169.254.169.254/latest'],
      ['unifiedpush', 'https://10.0.0.1/up'],
      ['unifiedpush', 'http://push.example.com/up'],
      ['webpush', webPush('https://192.168.1.20')],
      ['webpush', webPush('https://localhost')],
    ]) {
      const res = await http(t.api, 'PUT', `/devices/${s.deviceId}/push`, {
        token: s.accessToken,
        body: { provider, token },
      });
      expect({ token, status: res.status, code: res.body.code }).toEqual({
        token,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect(await t.app.get(PushRegistrationRepository).forDevice(s.deviceId)).toEqual([]);
    const key = await http(t.api, 'GET', '/push/vapid-key', { token: s.accessToken });
    expect(key.status).toBe(200);
    if (!t.config.redis.url) expect(Buffer.from(key.body.publicKey, 'base64url')).toHaveLength(65);
  });
});

const backend = backendFromEnvironment();
const WORKER_DELAY_MS = 3000;

// An API process and a worker process over PostgreSQL and Redis: registered only where
// both are configured; the embedded pass covers the in-process queue in notifications.e2e.
if (backend.databaseUrl && backend.redisUrl)
  describe('push decisions on BullMQ, with the worker in its own process (e2e)', () => {
    let db: { url: string; drop: () => Promise<void> };
    let api: ServerProcess;
    let worker: ServerProcess | undefined;
    let receiver: PushReceiver;
    const sockets: Socket[] = [];
    const common = (): Record<string, string> => ({
      DATABASE_URL: db.url,
      REDIS_URL: backend.redisUrl!,
      QUEUE_LOCK_MS: '2000',
      PUSH_DELAY_MS: String(WORKER_DELAY_MS),
      PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
    });
    const startWorker = () =>
      startServerProcess({ ...common(), APP_ROLE: 'worker', DATABASE_RUN_MIGRATIONS: 'false' });

    beforeAll(async () => {
      receiver = await new PushReceiver().start();
      db = await freshDatabase(backend.databaseUrl!);
      api = await startServerProcess({ ...common(), APP_ROLE: 'api' });
      worker = await startWorker();
    }, 120_000);

    afterAll(async () => {
      for (const s of sockets) s.close();
      await Promise.all([api?.kill(), worker?.kill()]);
      await db?.drop();
      await receiver?.close();
    });

    it('a decision job waiting when its worker dies runs on the next worker; connected devices are skipped', async () => {
      const alice = await signIn(api);
      const bob = await signIn(api);
      const bobLaptop = await signIn(api, bob.phone);
      const phone = receiver.unifiedPushEndpoint();
      const laptop = receiver.unifiedPushEndpoint();
      for (const [s, endpoint] of [
        [bob, phone],
        [bobLaptop, laptop],
      ] as const) {
        const res = await http(api.api, 'PUT', `/devices/${s.deviceId}/push`, {
          token: s.accessToken,
          body: { provider: 'unifiedpush', token: endpoint.token },
        });
        expect(res.status).toBe(204);
      }
      // The laptop is connected to the API process; the worker must know it from Redis.
      sockets.push(await connect(api, bobLaptop.accessToken));
      await sleep(200);

      const sent = await http(api.api, 'POST', '/messages', {
        token: alice.accessToken,
        body: { clientMsgId: randomUUID(), recipientId: bob.userId, type: 'text', body: 'hi' },
      });
      expect(sent.status).toBe(201);
      await worker!.kill();
      await sleep(WORKER_DELAY_MS + 1000);
      expect(receiver.for(phone.id)).toEqual([]);

      worker = await startWorker();
      const deadline = Date.now() + 20_000;
      while (!receiver.for(phone.id).length && Date.now() < deadline) await sleep(100);
      await sleep(500);
      const pushes = receiver.for(phone.id);
      expect(pushes).toHaveLength(1);
      expect(pushes[0].payload).toEqual({
        type: 'message',
        conversationId: sent.body.conversationId,
        unreadCount: 1,
        badge: 1,
      });
      expect(receiver.for(laptop.id)).toEqual([]);
    }, 90_000);
  });
