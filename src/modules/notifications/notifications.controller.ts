import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import {
  MuteDto,
  NotificationSettingsDto,
  RegisterPushDto,
  VapidKeyResponseDto,
} from './dto/notifications.dto';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Controller()
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Put('devices/:id/push')
  @HttpCode(204)
  @ApiNoContentResponse()
  async register(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) deviceId: string,
    @Body() dto: RegisterPushDto,
  ): Promise<void> {
    await this.notifications.register(auth, deviceId, dto.provider, dto.token);
  }

  @Delete('devices/:id/push')
  @HttpCode(204)
  @ApiNoContentResponse()
  async unregister(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) deviceId: string,
  ): Promise<void> {
    await this.notifications.unregister(auth, deviceId);
  }

  @Put('users/me/notifications')
  @HttpCode(204)
  @ApiNoContentResponse()
  async settings(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: NotificationSettingsDto,
  ): Promise<void> {
    await this.notifications.setPreview(auth.userId, dto.preview);
  }

  @Put('conversations/:id/mute')
  @HttpCode(204)
  @ApiNoContentResponse()
  async mute(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) conversationId: string,
    @Body() dto: MuteDto,
  ): Promise<void> {
    await this.notifications.mute(auth.userId, conversationId, dto.until);
  }

  @Get('push/vapid-key')
  @ApiOkResponse({ type: VapidKeyResponseDto })
  vapidKey(): VapidKeyResponseDto {
    return { publicKey: this.notifications.vapidPublicKey };
  }
}
