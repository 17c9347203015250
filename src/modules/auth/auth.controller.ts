import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Post, Put } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { Public } from '../../common/auth/public.decorator';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { AuthService, type Session } from './auth.service';
import {
  DeviceResponseDto,
  OtpSentResponseDto,
  RefreshDto,
  RequestOtpDto,
  SessionResponseDto,
  SetPinDto,
  VerifyOtpDto,
  VerifyPinDto,
} from './dto/auth.dto';
import { PinService } from './pin.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('otp')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: OtpSentResponseDto })
  requestOtp(
    @Body() dto: RequestOtpDto,
    @Ip() clientIp: string,
  ): Promise<{ expiresInSec: number }> {
    return this.auth.requestOtp(dto.phone, clientIp);
  }

  @Public()
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionResponseDto })
  verify(@Body() dto: VerifyOtpDto, @Ip() clientIp: string): Promise<Session> {
    return this.auth.verifyOtp({ ...dto, clientIp });
  }

  @Public()
  @Post('pin')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionResponseDto })
  verifyPin(@Body() dto: VerifyPinDto): Promise<Session> {
    return this.auth.verifyPin(dto.pinToken, dto.pin);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionResponseDto })
  refresh(@Body() dto: RefreshDto): Promise<Session> {
    return this.auth.refresh(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  async logout(@CurrentAuth() auth: AuthContext): Promise<void> {
    await this.auth.logout(auth);
  }
}

@ApiTags('auth')
@ApiBearerAuth()
@Controller('devices')
export class DevicesController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOkResponse({ type: [DeviceResponseDto] })
  async list(@CurrentAuth() auth: AuthContext): Promise<DeviceResponseDto[]> {
    const devices = await this.auth.listDevices(auth.userId);
    return devices.map((d) => ({
      id: d.id,
      name: d.name,
      platform: d.platform,
      createdAt: d.createdAt.toISOString(),
      lastActiveAt: d.lastActiveAt.toISOString(),
      current: d.id === auth.deviceId,
    }));
  }

  @Delete(':deviceId')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(
    @CurrentAuth() auth: AuthContext,
    @Param('deviceId', UuidParamPipe) deviceId: string,
  ): Promise<void> {
    await this.auth.removeDevice(auth, deviceId);
  }
}

@ApiTags('auth')
@ApiBearerAuth()
@Controller('users/me/pin')
export class PinController {
  constructor(private readonly pins: PinService) {}

  @Put()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Two-step verification on, with this PIN' })
  async set(@CurrentAuth() auth: AuthContext, @Body() dto: SetPinDto): Promise<void> {
    await this.pins.set(auth.userId, dto.pin);
  }

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Two-step verification off' })
  async remove(@CurrentAuth() auth: AuthContext): Promise<void> {
    await this.pins.remove(auth.userId);
  }
}
