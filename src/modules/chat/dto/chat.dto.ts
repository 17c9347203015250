import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { LowercaseId } from '../../../common/validation/lowercase-id';
import {
  isMediaMessageType,
  isTargetMessageType,
  SENDABLE_MESSAGE_TYPES,
  type SendableMessageType,
} from '../domain/message';
import { MAX_ENVELOPES } from '../domain/envelopes';

export class EnvelopeDto {
  @ApiProperty({ description: 'The device this copy is encrypted for' })
  @LowercaseId()
  @IsUUID('all', { message: 'envelopes: deviceId must be a UUID' })
  deviceId!: string;

  @ApiProperty({ description: 'Ciphertext for that device, at most 65,536 UTF-8 bytes' })
  @IsString()
  body!: string;
}

export class SendMessageDto {
  @ApiProperty({
    description: 'Chosen by the client (a UUID); a resend with the same id returns the original',
  })
  @LowercaseId()
  @IsUUID('all', { message: 'clientMsgId must be a UUID' })
  clientMsgId!: string;

  @ApiPropertyOptional({
    description: 'Send to this conversation (exactly one of conversationId, recipientId)',
  })
  @ValidateIf((o: SendMessageDto) => o.recipientId == null || o.conversationId != null)
  @LowercaseId()
  @IsUUID('all', { message: 'conversationId (or recipientId) must be a UUID' })
  conversationId?: string;

  @ApiPropertyOptional({
    description: 'Send to the direct conversation with this user, created on first use',
  })
  @ValidateIf((o: SendMessageDto) => o.conversationId == null || o.recipientId != null)
  @LowercaseId()
  @IsUUID('all', { message: 'recipientId (or conversationId) must be a UUID' })
  recipientId?: string;

  @ApiPropertyOptional({
    enum: SENDABLE_MESSAGE_TYPES,
    description: 'Required unless forwardOf is given (a forward takes its source’s type)',
  })
  @ValidateIf((o: SendMessageDto) => o.forwardOf == null || o.type != null)
  @IsIn(SENDABLE_MESSAGE_TYPES)
  type?: SendableMessageType;

  @ApiPropertyOptional({
    description:
      'Opaque text or ciphertext, at most 65,536 UTF-8 bytes; an edit’s new text; a reaction’s emoji ("" removes it); none for a delete',
  })
  @ValidateIf(
    (o: SendMessageDto) =>
      (o.type === 'text' && o.forwardOf == null && o.envelopes == null) ||
      o.type === 'edit' ||
      o.type === 'reaction' ||
      o.body != null,
  )
  @IsString()
  body?: string;

  @ApiPropertyOptional({
    type: [EnvelopeDto],
    description:
      "Instead of body: one envelope per device of every member (the sender's other devices included, not the sending one)",
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ENVELOPES)
  @ValidateNested({ each: true })
  @Type(() => EnvelopeDto)
  envelopes?: EnvelopeDto[];

  @ApiPropertyOptional({
    description:
      'Required for image, video, audio and document messages: an uploaded media (POST /media) whose kind equals type',
  })
  @ValidateIf(
    (o: SendMessageDto) =>
      (o.type != null && isMediaMessageType(o.type) && o.forwardOf == null) || o.mediaId != null,
  )
  @LowercaseId()
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
  @LowercaseId()
  @IsUUID()
  replyToId?: string;

  @ApiPropertyOptional({ description: 'Edits, deletes and reactions: the message they apply to' })
  @ValidateIf(
    (o: SendMessageDto) => (o.type != null && isTargetMessageType(o.type)) || o.targetId != null,
  )
  @LowercaseId()
  @IsUUID('all', { message: 'targetId must be the id of a message' })
  targetId?: string;

  @ApiPropertyOptional({
    description: 'Forward this message: its type, body and media are copied (a body given is kept)',
  })
  @IsOptional()
  @LowercaseId()
  @IsUUID('all', { message: 'forwardOf must be the id of a message' })
  forwardOf?: string;
}

export class AckDto {
  @ApiProperty()
  @LowercaseId()
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
  @LowercaseId()
  @IsUUID()
  userId!: string;
}

export class ReactionDto {
  @ApiProperty() emoji!: string;
  @ApiProperty({ type: [String] }) userIds!: string[];
}

export class MessageResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() senderId!: string;
  @ApiProperty() senderDeviceId!: string;
  @ApiProperty() clientMsgId!: string;
  @ApiProperty({
    enum: ['text', 'image', 'video', 'audio', 'document', 'system', 'edit', 'delete', 'reaction'],
  })
  type!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Null once deleted for everyone' })
  body!: string | null;
  @ApiProperty({ nullable: true, type: String }) mediaId!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The message an edit, delete or reaction applies to',
  })
  targetId!: string | null;
  @ApiProperty({ description: 'Forwarding hops (0: not forwarded)' }) forwardScore!: number;
  @ApiProperty({ description: 'View-once media' }) viewOnce!: boolean;
  @ApiProperty({ nullable: true, type: String }) replyToId!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) editedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) deletedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When a disappearing message expires; null unless the timer was on',
  })
  expiresAt!: string | null;
  @ApiPropertyOptional({
    type: [ReactionDto],
    description: 'History reads only: the reactions the message has now',
  })
  reactions?: ReactionDto[];
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
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'When the mute ends: an ISO time, "forever", or null when not muted',
  })
  mutedUntil!: string | null;
  @ApiProperty({
    enum: [0, 86400, 604800, 7776000],
    description: 'Disappearing messages: 0 (off) or the lifetime of new messages in seconds',
  })
  disappearAfterSec!: number;
  @ApiProperty() createdAt!: string;
}
