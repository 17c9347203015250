import { Injectable, OnModuleInit } from '@nestjs/common';
import { SocketEventRegistry } from '../../common/realtime/socket-event.registry';
import { ChatService } from './chat.service';
import { SyncDto } from './dto/chat.dto';
import { parseAck, parseSendMessage } from './dto/chat.parsers';

/** Socket.IO events of the chat module: message:send, message:ack, sync. */
@Injectable()
export class ChatSocketHandlers implements OnModuleInit {
  constructor(
    private readonly registry: SocketEventRegistry,
    private readonly chat: ChatService,
  ) {}

  onModuleInit(): void {
    this.registry.register('message:send', {
      parse: parseSendMessage,
      handler: async (ctx, dto) => {
        const { message } = await this.chat.send({ ...ctx, socketId: ctx.socket.id }, dto);
        return { message };
      },
    });
    this.registry.register('message:ack', {
      parse: parseAck,
      handler: async (ctx, dto) => {
        await this.chat.ack(
          { ...ctx, socketId: ctx.socket.id },
          dto.conversationId,
          dto.seq,
          dto.status,
        );
      },
    });
    this.registry.register('sync', {
      dto: SyncDto,
      handler: (ctx, dto) => this.chat.sync({ ...ctx, socketId: ctx.socket.id }, dto.limit),
    });
  }
}
