import {
  Controller,
  Delete,
  Head,
  Headers,
  HttpCode,
  Logger,
  Param,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { AppError, ErrorCode } from '../../common/errors';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { uploadUrl } from './domain/media';
import {
  parseOffsetHeader,
  TUS_CHUNK_CONTENT_TYPE,
  TUS_EXPOSED_HEADERS,
  TUS_EXTENSIONS,
  TUS_VERSION,
} from './domain/tus';
import { MediaUploadsService } from './media-uploads.service';
import type { UploadRecord } from './ports/media.repository';

const TUS_HEADER = {
  name: 'Tus-Resumable',
  description: 'Must be 1.0.0',
  required: true,
};

/**
 * Resumable uploads, speaking tus 1.0.0 (core, creation, expiration, termination), so
 * stock tus clients work. Every request needs the bearer token; an upload is visible
 * to its uploader only. OPTIONS discovery is not served (the CORS layer answers OPTIONS);
 * the same Tus-* headers come with every response instead.
 */
@ApiTags('media')
@ApiBearerAuth()
@Controller('media/uploads')
export class MediaUploadsController {
  private readonly logger = new Logger(MediaUploadsController.name);

  constructor(private readonly uploads: MediaUploadsService) {}

  /** Headers of every tus response; returns false (after answering 412) for a bad version. */
  private tus(req: Request, res: Response): boolean {
    res.setHeader('Tus-Resumable', TUS_VERSION);
    res.setHeader('Tus-Version', TUS_VERSION);
    res.setHeader('Tus-Extension', TUS_EXTENSIONS);
    res.setHeader('Tus-Max-Size', String(this.uploads.maxSize));
    res.setHeader('Access-Control-Expose-Headers', TUS_EXPOSED_HEADERS);
    if (req.headers['tus-resumable'] === TUS_VERSION) return true;
    res.status(412).json({
      statusCode: 412,
      code: ErrorCode.VALIDATION_FAILED,
      message: `Tus-Resumable: ${TUS_VERSION} is required`,
    });
    return false;
  }

  private describe(res: Response, upload: UploadRecord, offset = upload.offset): void {
    res.setHeader('Upload-Offset', String(offset));
    res.setHeader('Upload-Length', String(upload.length));
    if (upload.mediaId) res.setHeader('Media-Id', upload.mediaId);
    else res.setHeader('Upload-Expires', upload.expiresAt.toUTCString());
  }

  @Post()
  @ApiOperation({
    summary: 'Start a resumable upload (tus creation)',
    description:
      'Headers: Upload-Length (bytes), optional Upload-Metadata (filename, filetype, base64). Answers 201 with Location.',
  })
  @ApiHeader(TUS_HEADER)
  @ApiHeader({ name: 'Upload-Length', required: true })
  @ApiHeader({ name: 'Upload-Metadata', required: false })
  @ApiCreatedResponse({ description: 'Location: the upload URL' })
  async create(
    @CurrentAuth() auth: AuthContext,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('upload-length') lengthHeader: string | undefined,
    @Headers('upload-metadata') metadata: string | undefined,
  ): Promise<void> {
    if (!this.tus(req, res)) return;
    if (req.headers['upload-defer-length'] !== undefined) {
      throw AppError.validation('Upload-Defer-Length is not supported: send Upload-Length');
    }
    const length = parseOffsetHeader(lengthHeader);
    if (length === null) throw AppError.validation('Upload-Length must be a whole number');
    const upload = await this.uploads.create(auth.userId, length, metadata);
    res.setHeader('Location', uploadUrl(upload.id));
    res.setHeader('Upload-Expires', upload.expiresAt.toUTCString());
    res.status(201).end();
  }

  @Head(':id')
  @ApiOperation({ summary: 'Where to resume: Upload-Offset and Upload-Length (tus core)' })
  @ApiHeader(TUS_HEADER)
  @ApiOkResponse({ description: 'Media-Id is set once the upload is complete' })
  async status(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!this.tus(req, res)) return;
    res.setHeader('Cache-Control', 'no-store');
    const upload = await this.uploads.find(auth.userId, id);
    this.describe(res, upload);
    res.status(200).end();
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Send bytes from Upload-Offset (tus core)',
    description:
      'Content-Type: application/offset+octet-stream. Bytes that arrive before a dropped connection are kept. The last PATCH answers with Media-Id.',
  })
  @ApiHeader(TUS_HEADER)
  @ApiHeader({ name: 'Upload-Offset', required: true })
  @ApiNoContentResponse({ description: 'Upload-Offset: the new offset' })
  async append(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('upload-offset') offsetHeader: string | undefined,
  ): Promise<void> {
    if (!this.tus(req, res)) return;
    const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
    if (type !== TUS_CHUNK_CONTENT_TYPE) {
      res.status(415).json({
        statusCode: 415,
        code: ErrorCode.VALIDATION_FAILED,
        message: `Content-Type must be ${TUS_CHUNK_CONTENT_TYPE}`,
      });
      return;
    }
    const offset = parseOffsetHeader(offsetHeader);
    if (offset === null) throw AppError.validation('Upload-Offset must be a whole number');
    let outcome;
    try {
      outcome = await this.uploads.append(auth.userId, id, offset, req);
    } catch (error) {
      // The client went away mid-body: what arrived is kept and there is nobody to answer.
      if (!(error instanceof AppError) && (req.destroyed || res.destroyed || !req.complete)) {
        this.logger.debug({ uploadId: id }, 'upload connection dropped');
        return;
      }
      throw error;
    }
    const upload = await this.uploads.find(auth.userId, id);
    this.describe(res, upload, outcome.offset);
    res.status(204).end();
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Abandon an upload (tus termination)' })
  @ApiHeader(TUS_HEADER)
  @ApiNoContentResponse()
  async terminate(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!this.tus(req, res)) return;
    await this.uploads.terminate(auth.userId, id);
    res.status(204).end();
  }
}
