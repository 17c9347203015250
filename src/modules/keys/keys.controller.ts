import { Body, Controller, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe, isUuid } from '../../common/validation/uuid-param.pipe';
import { AppError } from '../../common/errors';
import type { KeyCounts } from './domain/keys';
import { KeyBundleDto, KeyCountsDto, UploadKeysDto } from './dto/keys.dto';
import { KeysService, type KeyBundle } from './keys.service';

@ApiTags('keys')
@ApiBearerAuth()
@Controller('keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Put()
  @HttpCode(204)
  @ApiNoContentResponse({ description: "The caller's device keys are stored" })
  async upload(@CurrentAuth() auth: AuthContext, @Body() dto: UploadKeysDto): Promise<void> {
    await this.keys.upload(auth, dto);
  }

  @Get('count')
  @ApiOkResponse({ type: KeyCountsDto })
  count(@CurrentAuth() auth: AuthContext): Promise<KeyCounts> {
    return this.keys.counts(auth);
  }

  @Get(':userId/:deviceId')
  @ApiOkResponse({ type: KeyBundleDto, description: 'deviceId is a device id or * for all' })
  fetch(
    @CurrentAuth() auth: AuthContext,
    @Param('userId', UuidParamPipe) userId: string,
    @Param('deviceId') deviceId: string,
  ): Promise<KeyBundle> {
    if (deviceId !== '*' && !isUuid(deviceId))
      throw AppError.validation('deviceId must be a device id or *');
    return this.keys.fetch(auth, userId, deviceId === '*' ? '*' : deviceId.toLowerCase());
  }
}
