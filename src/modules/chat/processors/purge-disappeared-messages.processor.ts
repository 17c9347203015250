import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../../common/config/app-config';
import { JobQueue } from '../../../common/queue/job-queue';
import { JobName } from '../../../common/queue/queue-names';
import { DisappearingService } from '../disappearing.service';

/**
 * Every DISAPPEARING_PURGE_INTERVAL_MS: deletes expired disappearing messages and the media
 * only they carried. Reads hide expired messages already; this removes them. Idempotent.
 */
@Injectable()
export class PurgeDisappearedMessagesProcessor implements OnModuleInit {
  private readonly logger = new Logger(PurgeDisappearedMessagesProcessor.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly disappearing: DisappearingService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.process(JobName.purgeDisappearedMessages, async () => {
      const purged = await this.disappearing.purgeExpired();
      if (purged.messages) this.logger.log(purged, 'disappeared messages purged');
    });
    this.jobs.repeat(
      JobName.purgeDisappearedMessages,
      this.config.messages.disappearingPurgeIntervalMs,
      {},
    );
  }
}
