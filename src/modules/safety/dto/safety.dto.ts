import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { LowercaseId } from '../../../common/validation/lowercase-id';
import { REPORT_REASONS, type ReportReason } from '../domain/report';

export class CreateReportDto {
  @ApiProperty({ description: 'The user reported' })
  @IsUUID()
  @LowercaseId()
  userId!: string;

  @ApiPropertyOptional({ description: 'A message of theirs you can see' })
  @IsOptional()
  @IsUUID()
  @LowercaseId()
  messageId?: string;

  @ApiProperty({ enum: REPORT_REASONS })
  @IsIn(REPORT_REASONS)
  reason!: ReportReason;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class ReportsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, description: 'Page size (default 50)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Reports older than this report id (the last one seen)' })
  @IsOptional()
  @IsUUID()
  @LowercaseId()
  before?: string;

  @ApiPropertyOptional({ description: 'Only reports about this user' })
  @IsOptional()
  @IsUUID()
  @LowercaseId()
  userId?: string;
}

export class ReportResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() reporterId!: string;
  @ApiProperty({ description: 'The reported user' }) userId!: string;
  @ApiProperty({ nullable: true, type: String }) messageId!: string | null;
  @ApiProperty({ enum: REPORT_REASONS }) reason!: ReportReason;
  @ApiProperty() note!: string;
  @ApiProperty({
    description:
      "The last messages of the reporter's direct conversation with the user, as stored for the reporter, oldest first",
    type: [Object],
  })
  messages!: object[];
  @ApiProperty() createdAt!: string;
}

export class DeleteAccountDto {
  @ApiProperty({
    example: '123456',
    description: 'A sign-in code requested after your last sign-in',
  })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}
