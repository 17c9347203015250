import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsUUID } from 'class-validator';
import { LowercaseId } from '../../../common/validation/lowercase-id';
import { MAX_IDS_PER_REQUEST } from '../domain/presence';

export class PresenceUserIdsDto {
  @ApiProperty({ type: [String], maxItems: MAX_IDS_PER_REQUEST })
  @IsArray()
  @ArrayMaxSize(MAX_IDS_PER_REQUEST, {
    message: `userIds must contain at most ${MAX_IDS_PER_REQUEST} ids`,
  })
  @LowercaseId()
  @IsUUID('all', { each: true, message: 'each of userIds must be a UUID' })
  userIds!: string[];
}

export class TypingDto {
  @ApiProperty()
  @LowercaseId()
  @IsUUID('all', { message: 'conversationId must be a UUID' })
  conversationId!: string;

  @ApiProperty()
  @IsBoolean()
  isTyping!: boolean;
}

export class PresenceResponseDto {
  @ApiProperty() userId!: string;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'null when hidden by privacy settings or the relationship',
  })
  online!: boolean | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'ISO-8601 time the user last went offline; null when hidden or never',
  })
  lastSeen!: string | null;
}
