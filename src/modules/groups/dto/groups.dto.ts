import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { LowercaseId } from '../../../common/validation/lowercase-id';

export class CreateGroupDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  description?: string;

  @ApiProperty({
    type: [String],
    description: 'Other members (the creator is added as creator); at most 1,023',
  })
  @IsArray()
  @ArrayMaxSize(5000)
  @LowercaseId()
  @IsUUID('all', { each: true })
  memberIds!: string[];
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  description?: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'An image you uploaded becomes the group icon; null removes it',
  })
  @ValidateIf((o: UpdateGroupDto) => o.iconMediaId !== null)
  @IsOptional()
  @IsUUID('all', { message: 'iconMediaId must be the id of an image you uploaded, or null' })
  iconMediaId?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  onlyAdminsCanSend?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  onlyAdminsCanEditInfo?: boolean;
}

export class AddMembersDto {
  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMaxSize(5000)
  @LowercaseId()
  @IsUUID('all', { each: true })
  userIds!: string[];
}

export class SetRoleDto {
  @ApiProperty({ enum: ['admin', 'member'] })
  @IsIn(['admin', 'member'])
  role!: 'admin' | 'member';
}

export class MembersQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @LowercaseId()
  @IsUUID()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class GroupSettingsDto {
  @ApiProperty() onlyAdminsCanSend!: boolean;
  @ApiProperty() onlyAdminsCanEditInfo!: boolean;
}

export class GroupMemberDto {
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['creator', 'admin', 'member'] }) role!: string;
}

export class GroupResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() memberCount!: number;
  @ApiProperty({ type: GroupSettingsDto }) settings!: GroupSettingsDto;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Path of the group icon (bearer token needed); null when none',
  })
  iconUrl!: string | null;
  @ApiProperty({ type: [GroupMemberDto] }) members!: GroupMemberDto[];
  @ApiProperty() createdAt!: string;
}

export class NotAddedDto {
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['privacy', 'blocked'] }) reason!: string;
}

export class GroupAddResponseDto extends GroupResponseDto {
  @ApiProperty({
    type: [NotAddedDto],
    description: 'Users left out: their groupAdd setting refuses you, or they blocked you',
  })
  notAdded!: NotAddedDto[];
}

export class GroupMemberPageDto {
  @ApiProperty({ type: [GroupMemberDto] }) members!: GroupMemberDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
