import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { CallsService } from './calls.service';
import { CallPageDto, CallsQueryDto, IceServersDto } from './dto/calls.dto';

@ApiTags('calls')
@ApiBearerAuth()
@Controller('calls')
export class CallsController {
  constructor(private readonly calls: CallsService) {}

  @Get()
  @ApiOkResponse({ type: CallPageDto })
  list(@CurrentAuth() auth: AuthContext, @Query() query: CallsQueryDto): Promise<CallPageDto> {
    return this.calls.list(auth.userId, query);
  }

  @Get('ice-servers')
  @ApiOkResponse({ type: IceServersDto })
  iceServers(@CurrentAuth() auth: AuthContext): IceServersDto {
    return this.calls.iceServers(auth.userId);
  }
}
