import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DISAPPEAR_AFTER_SEC_VALUES } from '../domain/conversation';
import { STARRED_DEFAULT_LIMIT, STARRED_MAX_LIMIT } from '../message-marks.service';
import { MessageResponseDto } from './chat.dto';

export class DeleteMessageQueryDto {
  @ApiProperty({
    enum: ['me'],
    description: 'Only "me": hide it from your own history on all your devices',
  })
  @IsIn(['me'], { message: 'scope must be "me" (delete for everyone is a message:send)' })
  scope!: 'me';
}

export class StarredQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: STARRED_MAX_LIMIT,
    default: STARRED_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(STARRED_MAX_LIMIT)
  limit?: number;
}

export class StarredPageDto {
  @ApiProperty({ type: [MessageResponseDto], description: 'Newest star first' })
  messages!: MessageResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class UpdateConversationDto {
  @ApiProperty({
    enum: DISAPPEAR_AFTER_SEC_VALUES,
    description: 'Disappearing messages: 0 (off), 24 h, 7 days or 90 days, in seconds',
  })
  @IsIn(DISAPPEAR_AFTER_SEC_VALUES, {
    message: `disappearAfterSec must be one of ${DISAPPEAR_AFTER_SEC_VALUES.join(', ')}`,
  })
  disappearAfterSec!: number;
}
