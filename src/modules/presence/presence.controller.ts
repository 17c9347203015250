import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import type { PresenceView } from './domain/presence';
import { PresenceResponseDto } from './dto/presence.dto';
import { PresenceService } from './presence.service';

@ApiTags('presence')
@ApiBearerAuth()
@Controller()
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get('users/:id/presence')
  @ApiOkResponse({
    type: PresenceResponseDto,
    description: 'Online status and last seen as the caller may see them (hidden values are null)',
  })
  get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<PresenceView> {
    return this.presence.presenceOf(auth.userId, id);
  }
}
