import type { Socket } from 'socket.io';
import { loadConfig } from '../../common/config/app-config';
import { MemoryRateLimiter } from '../../common/rate-limit/rate-limiter.memory';
import { DomainEvents } from '../../common/events/domain-events';
import type { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { SocketContext } from '../../common/realtime/socket-event.registry';
import { SocketLifecycle } from '../../common/realtime/socket-lifecycle';
import type { ChatService } from '../chat/chat.service';
import type { User } from '../users/domain/user';
import type { UsersService } from '../users/users.service';
import { PresenceMemoryStore } from './adapters/memory/presence.memory.store';
import { PresenceService } from './presence.service';

const GRACE_MS = 5000;

const user = (id: string, overrides: Partial<User> = {}): User => ({
  id,
  phone: `+1555${id.length}`,
  displayName: id,
  about: '',
  lastSeenPrivacy: 'everyone',
  readReceipts: true,
  groupAddPrivacy: 'everyone',
  lastSeenAt: null,
  photoMediaId: null,
  createdAt: new Date(0),
  deletedAt: null,
  ...overrides,
});

function setup() {
  const rows = new Map<string, User>(['viewer', 'target'].map((id) => [id, user(id)]));
  const users = {
    setLastSeen: jest.fn(async (id: string, at: Date) => {
      rows.set(id, { ...rows.get(id)!, lastSeenAt: at });
    }),
    findMany: jest.fn(async (ids: readonly string[]) =>
      ids.map((id) => rows.get(id)).filter((u): u is User => !!u),
    ),
    get: jest.fn(async (id: string) => rows.get(id)!),
    listContacts: jest.fn(async () => []),
    listBlocked: jest.fn(async () => []),
    isBlocked: jest.fn(async () => false),
    hasInContacts: jest.fn(async () => false),
  };
  const chat = {
    // viewer and target share a conversation; nobody else does.
    usersSharingConversationWith: jest.fn(async (userId: string, others: readonly string[]) => {
      const peer = userId === 'viewer' ? 'target' : 'viewer';
      return new Set(others.filter((id) => id === peer));
    }),
  };
  const pushed: Array<{ socketIds: readonly string[]; payload: unknown }> = [];
  const realtime = {
    toLocalSockets: jest.fn((socketIds: readonly string[], _event: string, payload: unknown) =>
      pushed.push({ socketIds, payload }),
    ),
  };
  const lifecycle = new SocketLifecycle();
  const config = loadConfig({
    JWT_SECRET: 'unit-secret-unit-secret-unit-secret-unit',
    PRESENCE_GRACE_MS: String(GRACE_MS),
  });
  const store = new PresenceMemoryStore({ ttlMs: config.presence.ttlMs });
  const service = new PresenceService(
    store,
    users as unknown as UsersService,
    chat as unknown as ChatService,
    realtime as unknown as RealtimeEmitter,
    lifecycle,
    new DomainEvents(),
    config,
    new MemoryRateLimiter(),
  );
  let nextSocket = 0;
  const socket = (userId: string): SocketContext => {
    nextSocket += 1;
    return { userId, deviceId: `d-${userId}`, socket: { id: `s${nextSocket}` } as Socket };
  };
  return { service, store, users, pushed, lifecycle, socket, rows };
}

/** Lets the store's feed and the service's async handlers run. */
const settleAsync = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => jest.requireActual<typeof import('timers')>('timers').setImmediate(r));
};

describe('PresenceService', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('goes offline after the grace period, storing when the last connection left', async () => {
    const { service, users, pushed, lifecycle, socket } = setup();
    await service.onModuleInit();
    const viewer = socket('viewer');
    expect(await service.subscribe(viewer, ['target'])).toEqual([
      { userId: 'target', online: false, lastSeen: null },
    ]);

    const device = socket('target');
    lifecycle.connected(device);
    await settleAsync();
    expect(pushed.map((p) => p.payload)).toEqual([
      { userId: 'target', online: true, lastSeen: null },
    ]);

    const leftAt = Date.now();
    lifecycle.disconnected(device);
    await settleAsync();
    jest.advanceTimersByTime(GRACE_MS - 100);
    await settleAsync();
    expect(users.setLastSeen).not.toHaveBeenCalled();

    jest.advanceTimersByTime(200);
    await settleAsync();
    expect(users.setLastSeen).toHaveBeenCalledTimes(1);
    expect(users.setLastSeen).toHaveBeenCalledWith('target', new Date(leftAt));
    await settleAsync();
    expect(pushed.map((p) => p.payload)).toEqual([
      { userId: 'target', online: true, lastSeen: null },
      { userId: 'target', online: false, lastSeen: new Date(leftAt).toISOString() },
    ]);
    expect(pushed.flatMap((p) => p.socketIds)).toEqual([viewer.socket.id, viewer.socket.id]);
    service.onModuleDestroy();
  });

  it('does not flap when the user reconnects within the grace period', async () => {
    const { service, users, pushed, lifecycle, socket } = setup();
    await service.onModuleInit();
    await service.subscribe(socket('viewer'), ['target']);
    const first = socket('target');
    lifecycle.connected(first);
    await settleAsync();
    lifecycle.disconnected(first);
    await settleAsync();
    jest.advanceTimersByTime(GRACE_MS / 2);
    lifecycle.connected(socket('target'));
    await settleAsync();
    jest.advanceTimersByTime(GRACE_MS * 10);
    await settleAsync();
    expect(users.setLastSeen).not.toHaveBeenCalled();
    expect(pushed.map((p) => p.payload)).toEqual([
      { userId: 'target', online: true, lastSeen: null },
    ]);
    service.onModuleDestroy();
  });

  it('returns nulls for users the viewer may not watch, and never watches them', async () => {
    const { service, lifecycle, socket, pushed } = setup();
    await service.onModuleInit();
    expect(await service.subscribe(socket('viewer'), ['stranger', 'target', 'target'])).toEqual([
      { userId: 'stranger', online: null, lastSeen: null },
      { userId: 'target', online: false, lastSeen: null },
    ]);
    lifecycle.connected(socket('stranger'));
    await settleAsync();
    expect(pushed).toEqual([]);
    service.onModuleDestroy();
  });

  it('stores lastSeen of its connected users when it shuts down', async () => {
    const { service, users, lifecycle, socket, store } = setup();
    await service.onModuleInit();
    lifecycle.connected(socket('target'));
    await settleAsync();
    const now = Date.now();
    service.onModuleDestroy();
    await service.beforeApplicationShutdown();
    expect(users.setLastSeen).toHaveBeenCalledWith('target', new Date(now));
    // Still announced online: another instance settles it after the grace period.
    expect((await store.states(['target'])).get('target')?.online).toBe(true);
  });
});
