import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';

export class CallsQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsUUID()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class CallDto {
  @ApiProperty() id!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() callerId!: string;
  @ApiProperty({ enum: ['audio', 'video'] }) media!: string;
  @ApiProperty({ enum: ['completed', 'rejected', 'cancelled', 'missed', 'busy', 'failed'] })
  outcome!: string;
  @ApiProperty() startedAt!: string;
  @ApiProperty({ nullable: true, type: String }) answeredAt!: string | null;
  @ApiProperty() endedAt!: string;
  @ApiProperty() durationSec!: number;
}

export class CallPageDto {
  @ApiProperty({ type: [CallDto] }) calls!: CallDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class IceServerDto {
  @ApiProperty({ type: [String] }) urls!: string[];
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional() credential?: string;
}

export class IceServersDto {
  @ApiProperty({ type: [IceServerDto] }) iceServers!: IceServerDto[];
  @ApiProperty({ description: 'How long the TURN credentials stay valid' }) ttlSec!: number;
}
