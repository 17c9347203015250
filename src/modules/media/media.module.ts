import { Module, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../../common/config/app-config';
import { HealthChecks } from '../../common/health/health-checks';
import { MediaLocalStorage } from './adapters/local/media.local.storage';
import { MediaPostgresRepository } from './adapters/postgres/media.postgres.repository';
import { MediaS3Storage } from './adapters/s3/media.s3.storage';
import { FfmpegTools } from './ffmpeg-tools';
import { MediaDelivery } from './media-delivery';
import { MediaUploadsController } from './media-uploads.controller';
import { MediaUploadsService } from './media-uploads.service';
import { MediaController } from './media.controller';
import { MediaService } from './media.service';
import { MediaAudienceRegistry } from './ports/media-audience';
import { MediaRepository } from './ports/media.repository';
import { MediaStorage } from './ports/media.storage';
import { MediaMaintenanceProcessor } from './processors/media-maintenance.processor';
import { ProcessMediaProcessor } from './processors/process-media.processor';

/**
 * Media uploads, processing and downloads. It imports no other feature module: the chat
 * module imports it (to check and record attachments) and registers a MediaAudience so
 * that media can ask who may see a message.
 */
@Module({
  // The uploads controller comes first so that /media/uploads/... is never read as /media/:id.
  controllers: [MediaUploadsController, MediaController],
  providers: [
    MediaService,
    MediaUploadsService,
    MediaDelivery,
    MediaAudienceRegistry,
    ProcessMediaProcessor,
    MediaMaintenanceProcessor,
    { provide: MediaRepository, useClass: MediaPostgresRepository },
    {
      provide: MediaStorage,
      inject: [AppConfig],
      useFactory: (config: AppConfig): MediaStorage =>
        config.s3
          ? new MediaS3Storage(config.s3)
          : new MediaLocalStorage(join(config.dataDir, 'media')),
    },
    {
      provide: FfmpegTools,
      inject: [AppConfig],
      useFactory: (config: AppConfig): FfmpegTools =>
        new FfmpegTools(
          config.media.ffmpegPath,
          config.media.ffprobePath,
          config.media.ffmpegTimeoutMs,
        ),
    },
  ],
  exports: [MediaService, MediaAudienceRegistry, MediaStorage, MediaDelivery],
})
export class MediaModule implements OnModuleInit {
  constructor(
    private readonly health: HealthChecks,
    private readonly storage: MediaStorage,
  ) {}

  onModuleInit(): void {
    this.health.register('media', () => this.storage.ping());
  }
}
