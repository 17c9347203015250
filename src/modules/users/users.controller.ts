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
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
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
  ContactResponseDto,
  OwnProfileResponseDto,
  PrivacyResponseDto,
  ProfileResponseDto,
  ReplaceContactsDto,
  SetPhotoDto,
  UpdatePrivacyDto,
  UpdateProfileDto,
} from './dto/users.dto';
import { toOwnProfile, UsersService, type OwnProfile, type PublicProfile } from './users.service';
import type { PrivacySettings, RegisteredContact } from './ports/user.repository';

@ApiTags('users')
@ApiBearerAuth()
@Controller()
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly delivery: MediaDelivery,
  ) {}

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

  @Put('users/me/photo')
  @ApiOperation({ summary: 'Make an image you uploaded your profile photo' })
  @ApiOkResponse({ type: OwnProfileResponseDto })
  async setPhoto(@CurrentAuth() auth: AuthContext, @Body() dto: SetPhotoDto): Promise<OwnProfile> {
    return toOwnProfile(await this.users.setPhoto(auth.userId, dto.mediaId));
  }

  @Delete('users/me/photo')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No profile photo any more (none: no change)' })
  async removePhoto(@CurrentAuth() auth: AuthContext): Promise<void> {
    await this.users.removePhoto(auth.userId);
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
  get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<PublicProfile> {
    return this.users.profileFor(auth.userId, id);
  }

  @Get('users/:id/photo')
  @ApiOperation({
    summary: 'Download a profile photo',
    description: 'NOT_FOUND when the user has none, or has blocked you.',
  })
  @ApiOkResponse({ description: 'The image' })
  async photo(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.delivery.sendPicture(req, res, await this.users.photoFor(auth.userId, id));
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
