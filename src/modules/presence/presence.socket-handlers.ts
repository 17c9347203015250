import { Injectable, OnModuleInit } from '@nestjs/common';
import { SocketEventRegistry } from '../../common/realtime/socket-event.registry';
import { PresenceUserIdsDto, TypingDto } from './dto/presence.dto';
import { PresenceService } from './presence.service';
import { TypingService } from './typing.service';

/** Socket.IO events of the presence module: presence:subscribe, presence:unsubscribe, typing. */
@Injectable()
export class PresenceSocketHandlers implements OnModuleInit {
  constructor(
    private readonly registry: SocketEventRegistry,
    private readonly presence: PresenceService,
    private readonly typingService: TypingService,
  ) {}

  onModuleInit(): void {
    this.registry.register('presence:subscribe', {
      dto: PresenceUserIdsDto,
      handler: async (ctx, dto) => ({ presence: await this.presence.subscribe(ctx, dto.userIds) }),
    });
    this.registry.register('presence:unsubscribe', {
      dto: PresenceUserIdsDto,
      handler: async (ctx, dto) => {
        this.presence.unsubscribe(ctx, dto.userIds);
      },
    });
    this.registry.register('typing', {
      dto: TypingDto,
      handler: (ctx, dto) => this.typingService.typing(ctx, dto),
    });
  }
}
