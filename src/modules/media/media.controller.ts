import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { toMediaView, type MediaView } from './domain/media';
import { MediaResponseDto, MediaUploadBodyDto } from './dto/media.dto';
import { MediaDelivery } from './media-delivery';
import { MediaService } from './media.service';
import { receiveMultipart } from './multipart-upload';

const DOWNLOAD_DOC =
  'Only the uploader and members who can see a message carrying the media. Range requests ' +
  '(206, 416), ETag = sha256, Cache-Control private. With S3: 302 to a short-lived presigned URL.';

@ApiTags('media')
@ApiBearerAuth()
@Controller('media')
export class MediaController {
  constructor(
    private readonly media: MediaService,
    private readonly delivery: MediaDelivery,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Upload a file (multipart/form-data, field "file")',
    description:
      'The type is read from the bytes. Images are re-encoded without metadata. Large files: use the resumable upload at /media/uploads (tus 1.0.0).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: MediaUploadBodyDto })
  @ApiCreatedResponse({ type: MediaResponseDto })
  async upload(
    @CurrentAuth() auth: AuthContext,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MediaView> {
    const limits = await this.media.limitsFor(auth.userId);
    const { file, fileName } = await receiveMultipart(req, res, limits, this.media.tempDir);
    const record = await this.media.store(auth.userId, file, { fileName, checkQuota: true });
    res.status(201);
    return toMediaView(record);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Download a media', description: DOWNLOAD_DOC })
  @ApiOkResponse({ description: 'The bytes (206 for a range)' })
  @ApiFoundResponse({ description: 'With S3: redirect to a presigned URL' })
  async download(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // HEAD asks about the media without opening it: it does not use up a view-once view.
    const { media, viewOnce } = await this.media.openOriginal(
      auth.userId,
      id,
      req.method !== 'HEAD',
    );
    await this.delivery.send(req, res, {
      key: media.storageKey,
      size: media.size,
      sha256: media.sha256,
      mimeType: media.mimeType,
      disposition: media.kind === 'document' ? 'attachment' : 'inline',
      fileName: media.fileName,
      viewOnce,
    });
  }

  @Get(':id/thumbnail')
  @ApiOperation({
    summary: 'Download the thumbnail (JPEG) of an image or video',
    description: `${DOWNLOAD_DOC} NOT_FOUND while processing or when there is none.`,
  })
  @ApiOkResponse({ description: 'A JPEG' })
  async thumbnail(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const media = await this.media.openThumbnail(auth.userId, id);
    const thumb = media.thumbnail!;
    await this.delivery.send(req, res, {
      key: thumb.key,
      size: thumb.size,
      sha256: thumb.sha256,
      mimeType: thumb.mimeType,
      disposition: 'inline',
      fileName: null,
      viewOnce: false,
    });
  }

  @Get(':id/info')
  @ApiOperation({ summary: 'Describe a media (the upload response, with processing results)' })
  @ApiOkResponse({ type: MediaResponseDto })
  info(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<MediaView> {
    return this.media.describe(auth.userId, id);
  }
}
