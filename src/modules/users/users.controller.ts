import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import {
  ContactResponseDto,
  OwnProfileResponseDto,
  PrivacyResponseDto,
  ProfileResponseDto,
  ReplaceContactsDto,
  UpdatePrivacyDto,
  UpdateProfileDto,
} from './dto/users.dto';
import { toOwnProfile, UsersService, type OwnProfile, type PublicProfile } from './users.service';
import type { PrivacySettings, RegisteredContact } from './ports/user.repository';

@ApiTags('users')
@ApiBearerAuth()
@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('users/me')
  @ApiOkResponse({ type: OwnProfileResponseDto })
  async me(@CurrentAuth() auth: AuthContext): Promise<OwnProfile> {
    return toOwnProfile(await this.users.get(auth.userId));
  }

  @Patch('users/me')
  @ApiOkResponse({ type: OwnProfileResponseDto })
  async updateMe(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: UpdateProfileDto,
  ): Promise<OwnProfile> {
    return toOwnProfile(await this.users.updateProfile(auth.userId, dto));
  }

  @Put('users/me/privacy')
  @ApiOkResponse({ type: PrivacyResponseDto })
  async updatePrivacy(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: UpdatePrivacyDto,
  ): Promise<PrivacySettings> {
    return toOwnProfile(await this.users.updatePrivacy(auth.userId, dto)).privacy;
  }

  @Get('users/me/blocked')
  @ApiOkResponse({ type: [String], description: 'Ids of the users you blocked' })
  blocked(@CurrentAuth() auth: AuthContext): Promise<string[]> {
    return this.users.listBlocked(auth.userId);
  }

  @Get('users/:id')
  @ApiOkResponse({ type: ProfileResponseDto })
  async get(@Param('id', UuidParamPipe) id: string): Promise<PublicProfile> {
    const user = await this.users.get(id);
    return { id: user.id, displayName: user.displayName, about: user.about };
  }

  @Post('users/:id/block')
  @HttpCode(204)
  async block(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.users.block(auth.userId, id);
  }

  @Delete('users/:id/block')
  @HttpCode(204)
  async unblock(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.users.unblock(auth.userId, id);
  }

  @Put('contacts')
  @ApiOkResponse({ type: [ContactResponseDto] })
  replaceContacts(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: ReplaceContactsDto,
  ): Promise<RegisteredContact[]> {
    return this.users.replaceContacts(auth.userId, dto.phones);
  }

  @Get('contacts')
  @ApiOkResponse({ type: [ContactResponseDto] })
  contacts(@CurrentAuth() auth: AuthContext): Promise<RegisteredContact[]> {
    return this.users.listContacts(auth.userId);
  }
}
