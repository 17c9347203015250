import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBase64,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_KEYS_PER_UPLOAD, MAX_REGISTRATION_ID } from '../domain/keys';

/** Longest base64 key or signature accepted (a Kyber-1024 public key is about 2,100). */
const MAX_KEY_CHARS = 4096;
/** libsignal prekey ids are 24-bit. */
const MAX_KEY_ID = 0xffffff;

export class PreKeyDto {
  @ApiProperty({ description: 'The key id the client chose (0..16777215)' })
  @IsInt()
  @Min(0)
  @Max(MAX_KEY_ID)
  keyId!: number;

  @ApiProperty({ description: "base64 of libsignal's serialized public key" })
  @IsString()
  @MaxLength(MAX_KEY_CHARS)
  @IsBase64()
  publicKey!: string;
}

export class SignedPreKeyDto extends PreKeyDto {
  @ApiProperty({ description: 'base64 XEdDSA signature of publicKey by the identity key' })
  @IsString()
  @MaxLength(MAX_KEY_CHARS)
  @IsBase64()
  signature!: string;
}

export class UploadKeysDto {
  @ApiProperty({
    description: "base64 of the user's identity public key (the same on every device)",
  })
  @IsString()
  @MaxLength(MAX_KEY_CHARS)
  @IsBase64()
  identityKey!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_REGISTRATION_ID })
  @IsInt()
  @Min(1)
  @Max(MAX_REGISTRATION_ID)
  registrationId!: number;

  @ApiProperty({ type: SignedPreKeyDto })
  @ValidateNested()
  @Type(() => SignedPreKeyDto)
  signedPreKey!: SignedPreKeyDto;

  @ApiPropertyOptional({ type: [PreKeyDto], maxItems: MAX_KEYS_PER_UPLOAD })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_KEYS_PER_UPLOAD)
  @ValidateNested({ each: true })
  @Type(() => PreKeyDto)
  preKeys?: PreKeyDto[];

  @ApiPropertyOptional({
    type: SignedPreKeyDto,
    description: 'Kyber key used when no one-time Kyber key is left',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => SignedPreKeyDto)
  pqLastResortPreKey?: SignedPreKeyDto;

  @ApiPropertyOptional({ type: [SignedPreKeyDto], maxItems: MAX_KEYS_PER_UPLOAD })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_KEYS_PER_UPLOAD)
  @ValidateNested({ each: true })
  @Type(() => SignedPreKeyDto)
  pqPreKeys?: SignedPreKeyDto[];
}

export class KeyCountsDto {
  @ApiProperty() count!: number;
  @ApiProperty() pqCount!: number;
}

export class DeviceBundleDto {
  @ApiProperty() deviceId!: string;
  @ApiProperty() registrationId!: number;
  @ApiProperty({ type: SignedPreKeyDto }) signedPreKey!: SignedPreKeyDto;
  @ApiProperty({ type: PreKeyDto, nullable: true }) preKey!: PreKeyDto | null;
  @ApiProperty({ type: SignedPreKeyDto, nullable: true }) pqPreKey!: SignedPreKeyDto | null;
}

export class KeyBundleDto {
  @ApiProperty() identityKey!: string;
  @ApiProperty({ type: [DeviceBundleDto] }) devices!: DeviceBundleDto[];
}
