import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { PUSH_PROVIDERS, type PushProvider } from '../domain/push';

export class RegisterPushDto {
  @ApiProperty({ enum: PUSH_PROVIDERS })
  @IsIn(PUSH_PROVIDERS)
  provider!: PushProvider;

  @ApiProperty({
    description:
      'FCM or APNs token, the Web Push subscription JSON, or the UnifiedPush endpoint URL',
    maxLength: 4096,
  })
  @IsString()
  @Length(1, 4096)
  token!: string;
}

export class NotificationSettingsDto {
  @ApiProperty({ description: 'Add the sender name to message pushes' })
  @IsBoolean()
  preview!: boolean;
}

export class MuteDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'An ISO time, "forever", or null to unmute',
    example: 'forever',
  })
  @ValidateIf((o: MuteDto) => o.until !== null)
  @IsString()
  @MaxLength(64)
  until!: string | null;
}

export class VapidKeyResponseDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The applicationServerKey for PushManager.subscribe (null: Web Push is off)',
  })
  publicKey!: string | null;
}
