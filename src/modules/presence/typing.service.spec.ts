import { loadConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { MemoryRateLimiter } from '../../common/rate-limit/rate-limiter.memory';
import type { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { ChatService } from '../chat/chat.service';
import type { UsersService } from '../users/users.service';
import { TypingService } from './typing.service';

const config = loadConfig({
  JWT_SECRET: 'unit-secret-unit-secret-unit-secret-unit',
  TYPING_THROTTLE_MS: '1000',
  TYPING_TTL_MS: '6000',
});

function setup(options: { type?: 'direct' | 'group'; blocked?: boolean } = {}) {
  const chat = {
    activeMembersFor: jest.fn(async (userId: string, conversationId: string) => {
      if (conversationId === 'missing') throw AppError.notFound('Conversation');
      if (userId === 'outsider') throw AppError.notAMember();
      return { type: options.type ?? 'group', memberIds: ['me', 'peer', 'third'] };
    }),
  };
  const users = { isBlocked: jest.fn(async () => options.blocked ?? false) };
  const realtime = { toUsers: jest.fn() };
  const limiter = new MemoryRateLimiter();
  const service = new TypingService(
    chat as unknown as ChatService,
    users as unknown as UsersService,
    limiter,
    realtime as unknown as RealtimeEmitter,
    config,
  );
  return { service, chat, users, realtime, limiter };
}

const me = { userId: 'me', deviceId: 'd1' };

describe('TypingService', () => {
  it('relays to the other members with the configured expiry', async () => {
    const { service, realtime, limiter } = setup();
    expect(await service.typing(me, { conversationId: 'c', isTyping: true })).toEqual({});
    expect(realtime.toUsers).toHaveBeenCalledWith(['peer', 'third'], 'typing', {
      conversationId: 'c',
      userId: 'me',
      isTyping: true,
      expiresInMs: 6000,
    });
    limiter.onModuleDestroy();
  });

  it('throttles starts per user and conversation, never stops', async () => {
    const { service, realtime, limiter } = setup();
    const start = { conversationId: 'c', isTyping: true };
    expect(await service.typing(me, start)).toEqual({});
    expect(await service.typing(me, start)).toEqual({ throttled: true });
    expect(await service.typing(me, { conversationId: 'c', isTyping: false })).toEqual({});
    expect(await service.typing(me, { conversationId: 'other', isTyping: true })).toEqual({});
    expect(await service.typing({ userId: 'peer', deviceId: 'd2' }, start)).toEqual({});
    expect(realtime.toUsers).toHaveBeenCalledTimes(4);
    limiter.onModuleDestroy();
  });

  it('passes authorization errors through and relays nothing', async () => {
    const { service, realtime, limiter } = setup();
    await expect(
      service.typing(
        { userId: 'outsider', deviceId: 'd' },
        { conversationId: 'c', isTyping: true },
      ),
    ).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    await expect(
      service.typing(me, { conversationId: 'missing', isTyping: true }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(realtime.toUsers).not.toHaveBeenCalled();
    limiter.onModuleDestroy();
  });

  it('drops typing in a direct conversation whose peer blocked the typist, silently', async () => {
    const { service, realtime, users, limiter } = setup({ type: 'direct', blocked: true });
    expect(await service.typing(me, { conversationId: 'c', isTyping: true })).toEqual({});
    expect(users.isBlocked).toHaveBeenCalledWith('peer', 'me');
    expect(realtime.toUsers).not.toHaveBeenCalled();
    limiter.onModuleDestroy();
  });

  it('does not look blocks up in groups', async () => {
    const { service, users, limiter } = setup({ type: 'group', blocked: true });
    await service.typing(me, { conversationId: 'c', isTyping: true });
    expect(users.isBlocked).not.toHaveBeenCalled();
    limiter.onModuleDestroy();
  });
});
