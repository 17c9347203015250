import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { MediaDelivery } from '../media/media-delivery';
import {
  AddMembersDto,
  CreateGroupDto,
  GroupMemberPageDto,
  GroupAddResponseDto,
  GroupResponseDto,
  MembersQueryDto,
  SetRoleDto,
  UpdateGroupDto,
} from './dto/groups.dto';
import { GroupsService, type GroupAddView, type GroupView } from './groups.service';

@ApiTags('groups')
@ApiBearerAuth()
@Controller('groups')
export class GroupsController {
  constructor(
    private readonly groups: GroupsService,
    private readonly delivery: MediaDelivery,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: GroupAddResponseDto })
  create(@CurrentAuth() auth: AuthContext, @Body() dto: CreateGroupDto): Promise<GroupAddView> {
    return this.groups.create(auth, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: GroupResponseDto })
  get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<GroupView> {
    return this.groups.get(auth, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: GroupResponseDto })
  update(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupView> {
    return this.groups.update(auth, id, dto);
  }

  @Get(':id/icon')
  @ApiOperation({
    summary: 'Download the group icon',
    description: 'For members; NOT_FOUND when the group has none.',
  })
  @ApiOkResponse({ description: 'The image' })
  async icon(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.delivery.sendPicture(req, res, await this.groups.iconFor(auth, id));
  }

  @Get(':id/members')
  @ApiOkResponse({ type: GroupMemberPageDto })
  members(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: MembersQueryDto,
  ): Promise<GroupMemberPageDto> {
    return this.groups.membersPage(auth, id, query.cursor, query.limit);
  }

  @Post(':id/members')
  @HttpCode(200)
  @ApiOkResponse({ type: GroupAddResponseDto })
  addMembers(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: AddMembersDto,
  ): Promise<GroupAddView> {
    return this.groups.addMembers(auth, id, dto.userIds);
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed (by an admin) or left (your own id)' })
  async removeMember(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Param('userId', UuidParamPipe) userId: string,
  ): Promise<void> {
    await this.groups.removeMember(auth, id, userId);
  }

  @Put(':id/members/:userId/role')
  @ApiOkResponse({ type: GroupResponseDto })
  setRole(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Param('userId', UuidParamPipe) userId: string,
    @Body() dto: SetRoleDto,
  ): Promise<GroupView> {
    return this.groups.setRole(auth, id, userId, dto.role);
  }
}
