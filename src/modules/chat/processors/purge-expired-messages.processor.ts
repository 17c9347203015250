import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { PeriodicJobs } from '../../../common/queue/periodic-jobs';
import { JobName } from '../../../common/queue/queue-names';
import { ChatService } from '../chat.service';

/** Hourly: drops messages (and receipt times) older than MESSAGE_RETENTION_DAYS. */
@Injectable()
export class PurgeExpiredMessagesProcessor implements OnModuleInit {
  private readonly logger = new Logger(PurgeExpiredMessagesProcessor.name);

  constructor(
    private readonly jobs: PeriodicJobs,
    private readonly chat: ChatService,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: JobName.purgeExpiredMessages,
      everyMs: 3_600_000,
      run: async () => {
        const purged = await this.chat.purgeExpired();
        if (purged) this.logger.log({ purged }, 'expired messages purged');
      },
    });
  }
}
