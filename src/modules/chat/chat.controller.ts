import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import type { MessageView } from '../../common/realtime/socket-events';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { ChatService, type ConversationView, type ReceiptView } from './chat.service';
import {
  ConversationResponseDto,
  ConversationsQueryDto,
  DirectConversationDto,
  HistoryQueryDto,
  MessagePageDto,
  MessageResponseDto,
  ReceiptResponseDto,
  SendMessageDto,
  StatusDto,
  SyncQueryDto,
} from './dto/chat.dto';

@ApiTags('messages')
@ApiBearerAuth()
@Controller()
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post('messages')
  @ApiCreatedResponse({
    type: MessageResponseDto,
    description: '201 when stored, 200 for a duplicate clientMsgId',
  })
  async send(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: SendMessageDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageView> {
    const { message, duplicate } = await this.chat.send(auth, dto);
    res.status(duplicate ? 200 : 201);
    return message;
  }

  @Put('messages/:id/status')
  @HttpCode(204)
  @ApiNoContentResponse()
  async status(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: StatusDto,
  ): Promise<void> {
    await this.chat.ackMessage(auth, id, dto.status);
  }

  @Get('messages/:id/receipts')
  @ApiOkResponse({ type: [ReceiptResponseDto] })
  receipts(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<ReceiptView[]> {
    return this.chat.receipts(auth, id);
  }

  @Get('sync')
  @ApiOkResponse({ type: MessagePageDto })
  sync(
    @CurrentAuth() auth: AuthContext,
    @Query() query: SyncQueryDto,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    return this.chat.sync(auth, query.limit);
  }

  /**
   * The v1 answer is the whole list as an array; a client that passes `limit` or `cursor`
   * gets one page (still an array) and the next page's address in `Link` / `X-Next-Cursor`.
   */
  @Get('conversations')
  @ApiOkResponse({ type: [ConversationResponseDto] })
  async conversations(
    @CurrentAuth() auth: AuthContext,
    @Query() query: ConversationsQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ConversationView[]> {
    if (query.limit === undefined && query.cursor === undefined)
      return this.chat.listConversations(auth.userId);
    const limit = query.limit ?? 100;
    const page = await this.chat.conversationPage(auth.userId, query.cursor, limit);
    if (page.nextCursor) {
      const path = res.req.originalUrl.split('?')[0];
      const next = `${path}?limit=${limit}&cursor=${page.nextCursor}`;
      res.setHeader('Link', `<${next}>; rel="next"`);
      res.setHeader('X-Next-Cursor', page.nextCursor);
    }
    return page.conversations;
  }

  @Post('conversations/direct')
  @HttpCode(200)
  @ApiOkResponse({ type: ConversationResponseDto })
  direct(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: DirectConversationDto,
  ): Promise<ConversationView> {
    return this.chat.openDirect(auth.userId, dto.userId);
  }

  @Get('conversations/:id')
  @ApiOkResponse({ type: ConversationResponseDto })
  conversation(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<ConversationView> {
    return this.chat.conversation(auth.userId, id);
  }

  @Get('conversations/:id/messages')
  @ApiOkResponse({ type: MessagePageDto })
  history(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: HistoryQueryDto,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    return this.chat.history(auth, id, query);
  }
}
