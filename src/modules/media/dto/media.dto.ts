import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEDIA_KINDS } from '../domain/media';

/** The upload response: what the bytes turned out to be, as stored. */
export class MediaResponseDto {
  @ApiProperty({ description: 'Use it as mediaId in message:send' }) mediaId!: string;
  @ApiProperty({ enum: MEDIA_KINDS, description: 'Must equal the type of the message' })
  kind!: string;
  @ApiProperty({ description: 'Read from the bytes, not from the name or header' })
  mimeType!: string;
  @ApiProperty({ description: 'Bytes as stored (images are re-encoded without metadata)' })
  size!: number;
  @ApiProperty({ description: 'Hex SHA-256 of the stored bytes; the download ETag' })
  sha256!: string;
  @ApiPropertyOptional() fileName?: string;
  @ApiPropertyOptional() width?: number;
  @ApiPropertyOptional() height?: number;
  @ApiPropertyOptional({ description: 'Audio and video, once processed (needs ffmpeg)' })
  durationMs?: number;
  @ApiPropertyOptional({ description: 'Once processed, when there is a thumbnail' })
  thumbnailUrl?: string;
  @ApiProperty({ enum: ['processing', 'ready'] }) status!: string;
  @ApiPropertyOptional({
    enum: ['not-applicable', 'ffmpeg-unavailable', 'failed', 'view-once'],
  })
  noThumbnailReason?: string;
  @ApiProperty() createdAt!: string;
}

export class MediaUploadBodyDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The file' })
  file!: unknown;
}
