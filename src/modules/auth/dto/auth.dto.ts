import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { E164 } from '../../users/domain/user';
import type { Platform } from '../domain/device';

const phoneMessage = 'phone must be in E.164 format, e.g. +14155550101';

export class RequestOtpDto {
  @ApiProperty({ example: '+14155550101' })
  @IsString()
  @Matches(E164, { message: phoneMessage })
  phone!: string;
}

export class VerifyOtpDto {
  @ApiProperty({ example: '+14155550101' })
  @IsString()
  @Matches(E164, { message: phoneMessage })
  phone!: string;

  @ApiProperty({ example: '123456' })
  @IsString()
  @Length(6, 6)
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  deviceName?: string;

  @ApiPropertyOptional({ enum: ['ios', 'android', 'web', 'desktop'] })
  @IsOptional()
  @IsIn(['ios', 'android', 'web', 'desktop'])
  platform?: Platform;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @MaxLength(512)
  refreshToken!: string;
}

export class OtpSentResponseDto {
  @ApiProperty() expiresInSec!: number;
}

export class SessionResponseDto {
  @ApiProperty() accessToken!: string;
  @ApiProperty() refreshToken!: string;
  @ApiProperty() expiresInSec!: number;
  @ApiProperty() userId!: string;
  @ApiProperty() deviceId!: string;
  @ApiProperty() isNewUser!: boolean;
}

export class DeviceResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['ios', 'android', 'web', 'desktop'] }) platform!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() lastActiveAt!: string;
  @ApiProperty({ description: 'Whether this is the device making the request' }) current!: boolean;
}

const pinMessage = 'pin must be 6 digits';

export class SetPinDto {
  @ApiProperty({ example: '123456', description: '6 digits' })
  @IsString()
  @Matches(/^\d{6}$/, { message: pinMessage })
  pin!: string;
}

export class VerifyPinDto extends SetPinDto {
  @ApiProperty({ description: 'The pinToken of the PIN_REQUIRED answer of POST /auth/verify' })
  @IsString()
  @MaxLength(128)
  pinToken!: string;
}
