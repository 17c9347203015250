import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobQueue } from '../../../common/queue/job-queue';
import { JobName } from '../../../common/queue/queue-names';
import { MediaUploadsService } from '../media-uploads.service';
import { MediaService } from '../media.service';

const HOURLY = 3_600_000;
const QUARTER_HOUR = 900_000;

/**
 * Media housekeeping, both idempotent:
 * - hourly, resumable uploads past MEDIA_UPLOAD_EXPIRY_SEC are deleted with their chunks;
 * - every 15 minutes, media still `processing` long after upload get their job queued
 *   again (in-process jobs do not survive a restart, and a job can fail for good while
 *   the store is down); processing twice is harmless.
 */
@Injectable()
export class MediaMaintenanceProcessor implements OnModuleInit {
  private readonly logger = new Logger(MediaMaintenanceProcessor.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly uploads: MediaUploadsService,
    private readonly media: MediaService,
  ) {}

  onModuleInit(): void {
    this.jobs.process(JobName.purgeExpiredUploads, async () => {
      const purged = await this.uploads.purgeExpired();
      if (purged) this.logger.log({ purged }, 'expired uploads purged');
    });
    this.jobs.repeat(JobName.purgeExpiredUploads, HOURLY, {});
    this.jobs.process(JobName.requeueStuckMedia, async () => {
      const requeued = await this.media.requeueStuck(QUARTER_HOUR);
      if (requeued) this.logger.warn({ requeued }, 'media stuck in processing queued again');
    });
    this.jobs.repeat(JobName.requeueStuckMedia, QUARTER_HOUR, {});
  }
}
