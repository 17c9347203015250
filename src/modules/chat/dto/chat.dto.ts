import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { isMediaMessageType, USER_MESSAGE_TYPES, type UserMessageType } from '../domain/message';

export class SendMessageDto {
  @ApiProperty({
    description: 'Chosen by the client (a UUID); a resend with the same id returns the original',
  })
  @IsString()
  @Length(1, 100)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'clientMsgId must be a UUID or similar token' })
  clientMsgId!: string;

  @ApiPropertyOptional({
    description: 'Send to this conversation (exactly one of conversationId, recipientId)',
  })
  @ValidateIf((o: SendMessageDto) => o.recipientId == null || o.conversationId != null)
  @IsUUID('all', { message: 'conversationId (or recipientId) must be a UUID' })
  conversationId?: string;

  @ApiPropertyOptional({
    description: 'Send to the direct conversation with this user, created on first use',
  })
  @ValidateIf((o: SendMessageDto) => o.conversationId == null || o.recipientId != null)
  @IsUUID('all', { message: 'recipientId (or conversationId) must be a UUID' })
  recipientId?: string;

  @ApiProperty({ enum: USER_MESSAGE_TYPES })
  @IsIn(USER_MESSAGE_TYPES)
  type!: UserMessageType;

  @ApiPropertyOptional({ description: 'Opaque text or ciphertext, at most 65,536 UTF-8 bytes' })
  @ValidateIf((o: SendMessageDto) => o.type === 'text' || o.body != null)
  @IsString()
  body?: string;

  @ApiPropertyOptional({
    description:
      'Required for image, video, audio and document messages: an uploaded media (POST /media) whose kind equals type',
  })
  @ValidateIf((o: SendMessageDto) => isMediaMessageType(o.type) || o.mediaId != null)
  @IsUUID('all', { message: 'mediaId must be the id of an uploaded media' })
  mediaId?: string;

  @ApiPropertyOptional({
    description: 'Media messages only: each recipient can download the media once',
  })
  @IsOptional()
  @IsBoolean()
  viewOnce?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  replyToId?: string;
}

export class AckDto {
  @ApiProperty()
  @IsUUID()
  conversationId!: string;

  @ApiProperty({ minimum: 0 })
  @IsInt()
  @Min(0)
  seq!: number;

  @ApiProperty({ enum: ['delivered', 'read'] })
  @IsIn(['delivered', 'read'])
  status!: 'delivered' | 'read';
}

export class StatusDto {
  @ApiProperty({ enum: ['delivered', 'read'] })
  @IsIn(['delivered', 'read'])
  status!: 'delivered' | 'read';
}

export class SyncDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'Default 100, at most 500 (larger values are capped)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

export class SyncQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'Default 100, at most 500 (larger values are capped)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  limit?: number;
}

export class ConversationsQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 500,
    description:
      'Page size. Without limit and cursor the whole list comes back; with either, a page, and a Link rel="next" header (and X-Next-Cursor) while there is more. Default 100.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'X-Next-Cursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,20}\.[0-9a-f-]{36}$/, { message: 'cursor is not one this server gave out' })
  cursor?: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'Messages with a lower seq (older)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  beforeSeq?: number;

  @ApiPropertyOptional({ description: 'Messages with a higher seq (newer)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  afterSeq?: number;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'Default 50, at most 100 (larger values are capped)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  limit?: number;
}

export class DirectConversationDto {
  @ApiProperty()
  @IsUUID()
  userId!: string;
}

export class MessageResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() senderId!: string;
  @ApiProperty() senderDeviceId!: string;
  @ApiProperty() clientMsgId!: string;
  @ApiProperty({ enum: ['text', 'image', 'video', 'audio', 'document', 'system'] }) type!: string;
  @ApiProperty() body!: string;
  @ApiProperty({ nullable: true, type: String }) mediaId!: string | null;
  @ApiProperty({ description: 'View-once media' }) viewOnce!: boolean;
  @ApiProperty({ nullable: true, type: String }) replyToId!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) editedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) deletedAt!: string | null;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageResponseDto] }) messages!: MessageResponseDto[];
  @ApiProperty() hasMore!: boolean;
}

export class ReceiptResponseDto {
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['sent', 'delivered', 'read'] }) status!: string;
  @ApiProperty() at!: string;
}

export class ConversationResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['direct', 'group'] }) type!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Group name, or the peer’s display name',
  })
  name!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Direct conversations: the other user',
  })
  peerId!: string | null;
  @ApiProperty({ nullable: true, type: MessageResponseDto })
  lastMessage!: MessageResponseDto | null;
  @ApiProperty() lastSeq!: number;
  @ApiProperty() unreadCount!: number;
  @ApiProperty() readSeq!: number;
  @ApiProperty() deliveredSeq!: number;
  @ApiProperty() peerReadSeq!: number;
  @ApiProperty() peerDeliveredSeq!: number;
  @ApiProperty() memberCount!: number;
  @ApiProperty({ description: 'True when you left or were removed from this group' })
  left!: boolean;
  @ApiProperty() createdAt!: string;
}
