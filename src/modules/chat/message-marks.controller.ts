import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import type { MessageView } from '../../common/realtime/socket-events';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import type { ConversationView } from './chat.service';
import { DisappearingService } from './disappearing.service';
import { ConversationResponseDto } from './dto/chat.dto';
import {
  DeleteMessageQueryDto,
  StarredPageDto,
  StarredQueryDto,
  UpdateConversationDto,
} from './dto/message-marks.dto';
import { MessageMarksService } from './message-marks.service';

@ApiTags('messages')
@ApiBearerAuth()
@Controller()
export class MessageMarksController {
  constructor(
    private readonly marks: MessageMarksService,
    private readonly disappearing: DisappearingService,
  ) {}

  @Delete('messages/:id')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Delete for me: hidden from your history on all your devices (message:hidden)',
  })
  async deleteForMe(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    // Validated for its single allowed value: scope=me.
    @Query() _query: DeleteMessageQueryDto,
  ): Promise<void> {
    await this.marks.hideForMe(auth, id);
  }

  @Put('messages/:id/star')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Starred (again: no change); message:starred to your devices',
  })
  async star(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.marks.setStar(auth, id, true);
  }

  @Delete('messages/:id/star')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Unstarred (not starred: no change)' })
  async unstar(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.marks.setStar(auth, id, false);
  }

  @Get('starred')
  @ApiOkResponse({ type: StarredPageDto })
  starred(
    @CurrentAuth() auth: AuthContext,
    @Query() query: StarredQueryDto,
  ): Promise<{ messages: MessageView[]; nextCursor: string | null }> {
    return this.marks.starred(auth, query);
  }

  @Patch('conversations/:id')
  @ApiOkResponse({ type: ConversationResponseDto })
  update(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateConversationDto,
  ): Promise<ConversationView> {
    return this.disappearing.setTimer(auth, id, dto.disappearAfterSec);
  }
}
