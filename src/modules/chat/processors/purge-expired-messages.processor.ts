import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobQueue } from '../../../common/queue/job-queue';
import { JobName } from '../../../common/queue/queue-names';
import { ChatService } from '../chat.service';

const HOURLY = 3_600_000;

/** Hourly: drops messages (and receipt times) older than MESSAGE_RETENTION_DAYS. Idempotent. */
@Injectable()
export class PurgeExpiredMessagesProcessor implements OnModuleInit {
  private readonly logger = new Logger(PurgeExpiredMessagesProcessor.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly chat: ChatService,
  ) {}

  onModuleInit(): void {
    this.jobs.process(JobName.purgeExpiredMessages, async () => {
      const purged = await this.chat.purgeExpired();
      if (purged) this.logger.log({ purged }, 'expired messages purged');
    });
    this.jobs.repeat(JobName.purgeExpiredMessages, HOURLY, {});
  }
}
