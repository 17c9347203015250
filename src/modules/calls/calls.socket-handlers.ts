import { Injectable, OnModuleInit } from '@nestjs/common';
import { SocketEventRegistry } from '../../common/realtime/socket-event.registry';
import { CallsService } from './calls.service';
import { parseCallId, parseInvite, parseSignal } from './dto/calls.parsers';

/** Socket.IO events of the calls module; the rules live in CallsService and domain/call.ts. */
@Injectable()
export class CallsSocketHandlers implements OnModuleInit {
  constructor(
    private readonly registry: SocketEventRegistry,
    private readonly calls: CallsService,
  ) {}

  onModuleInit(): void {
    this.registry.register('call:invite', {
      parse: parseInvite,
      handler: (ctx, dto) => this.calls.invite(ctx, dto),
    });
    this.registry.register('call:accept', {
      parse: parseCallId,
      handler: (ctx, dto) => this.calls.accept(ctx, dto.callId),
    });
    this.registry.register('call:reject', {
      parse: parseCallId,
      handler: (ctx, dto) => this.calls.reject(ctx, dto.callId),
    });
    this.registry.register('call:cancel', {
      parse: parseCallId,
      handler: (ctx, dto) => this.calls.cancel(ctx, dto.callId),
    });
    this.registry.register('call:hangup', {
      parse: parseCallId,
      handler: (ctx, dto) => this.calls.hangup(ctx, dto.callId),
    });
    this.registry.register('call:signal', {
      parse: parseSignal,
      handler: (ctx, dto) => this.calls.signal(ctx, dto),
    });
  }
}
