import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { E164 } from '../domain/user';

export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  displayName?: string;

  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  about?: string;
}

export class UpdatePrivacyDto {
  @ApiProperty({ enum: ['everyone', 'contacts', 'nobody'] })
  @IsIn(['everyone', 'contacts', 'nobody'])
  lastSeen!: 'everyone' | 'contacts' | 'nobody';

  @ApiProperty()
  @IsBoolean()
  readReceipts!: boolean;

  @ApiPropertyOptional({
    enum: ['everyone', 'contacts', 'nobody'],
    description: 'Who may add you to groups; unchanged when absent',
  })
  @IsOptional()
  @IsIn(['everyone', 'contacts', 'nobody'])
  groupAdd?: 'everyone' | 'contacts' | 'nobody';
}

export class ReplaceContactsDto {
  @ApiProperty({ type: [String], example: ['+14155550101'], maxItems: 5000 })
  @IsArray()
  @ArrayMaxSize(5000)
  @Matches(E164, { each: true, message: 'each phone must be in E.164 format, e.g. +14155550101' })
  phones!: string[];
}

export class ProfileResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty() about!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Path of the profile photo (bearer token needed); null when none or hidden',
  })
  photoUrl!: string | null;
}

export class SetPhotoDto {
  @ApiProperty({ description: 'An image you uploaded' })
  @IsUUID('all', { message: 'mediaId must be the id of an image you uploaded' })
  mediaId!: string;
}

export class PrivacyResponseDto {
  @ApiProperty({ enum: ['everyone', 'contacts', 'nobody'] }) lastSeen!: string;
  @ApiProperty() readReceipts!: boolean;
  @ApiProperty({ enum: ['everyone', 'contacts', 'nobody'] }) groupAdd!: string;
}

export class OwnProfileResponseDto extends ProfileResponseDto {
  @ApiProperty() phone!: string;
  @ApiProperty({ type: PrivacyResponseDto }) privacy!: PrivacyResponseDto;
  @ApiProperty() createdAt!: string;
}

export class ContactResponseDto {
  @ApiProperty() userId!: string;
  @ApiProperty() phone!: string;
  @ApiProperty() displayName!: string;
}
