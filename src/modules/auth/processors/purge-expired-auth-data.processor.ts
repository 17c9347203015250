import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobQueue } from '../../../common/queue/job-queue';
import { JobName } from '../../../common/queue/queue-names';
import { AuthRepository } from '../ports/auth.repository';
import { PinRepository } from '../ports/pin.repository';

const HOURLY = 3_600_000;
/** Expired codes are kept a day so the per-phone request limit still sees them. */
const OTP_KEEP_MS = 86_400_000;

/** Hourly: deletes expired OTP codes, refresh tokens and PIN sign-in tokens. Idempotent. */
@Injectable()
export class PurgeExpiredAuthDataProcessor implements OnModuleInit {
  private readonly logger = new Logger(PurgeExpiredAuthDataProcessor.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly auth: AuthRepository,
    private readonly pins: PinRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.process(JobName.purgeExpiredAuthData, async () => {
      const now = Date.now();
      const codes = await this.auth.deleteOtpsExpiredBefore(new Date(now - OTP_KEEP_MS));
      const tokens = await this.auth.deleteExpiredRefreshTokens(new Date(now));
      const pinTokens = await this.pins.deleteChallengesExpiredBefore(new Date(now));
      if (codes || tokens || pinTokens)
        this.logger.log({ codes, tokens, pinTokens }, 'expired auth data purged');
    });
    this.jobs.repeat(JobName.purgeExpiredAuthData, HOURLY, {});
  }
}
