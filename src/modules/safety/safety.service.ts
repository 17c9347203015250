import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { AuthService } from '../auth/auth.service';
import { ChatService } from '../chat/chat.service';
import { UsersService } from '../users/users.service';
import { REPORT_MESSAGES, type Report, type ReportReason } from './domain/report';
import { ReportRepository, type ReportQuery } from './ports/report.repository';

const HOUR_MS = 3_600_000;

/** User reports, and the operators' review of them: listing reports, banning users. */
@Injectable()
export class SafetyService {
  constructor(
    private readonly reports: ReportRepository,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly chat: ChatService,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async report(
    reporter: AuthContext,
    input: { userId: string; messageId?: string; reason: ReportReason; note?: string },
  ): Promise<Report> {
    if (input.userId === reporter.userId) throw AppError.validation('You cannot report yourself');
    await this.users.get(input.userId);
    if (
      input.messageId &&
      !(await this.chat.visibleMessageIds(reporter.userId, [input.messageId])).has(input.messageId)
    )
      throw AppError.notFound('Message');
    const limit = this.config.safety.reportsPerUserPerHour;
    if (limit > 0) {
      const decision = await this.limiter.consume(`report:${reporter.userId}`, limit, HOUR_MS);
      if (!decision.allowed)
        throw AppError.rateLimited(decision.retryAfterMs, `At most ${limit} reports per hour`);
    }
    // The evidence is copied now: what the reported user deletes later stays in the report.
    const direct = await this.chat.findDirectConversation(reporter.userId, input.userId);
    const messages = direct
      ? (await this.chat.history(reporter, direct.id, { limit: REPORT_MESSAGES })).messages
      : [];
    return this.reports.create({
      id: uuidv7(),
      reporterId: reporter.userId,
      userId: input.userId,
      messageId: input.messageId ?? null,
      reason: input.reason,
      note: input.note ?? '',
      messages,
    });
  }

  async listReports(admin: AuthContext, query: ReportQuery): Promise<Report[]> {
    await this.assertAdmin(admin);
    return this.reports.list(query);
  }

  /** Bans a user: every session ends at once, on every instance, and sign-in is refused. */
  async ban(admin: AuthContext, userId: string): Promise<void> {
    await this.assertAdmin(admin);
    if (userId === admin.userId) throw AppError.validation('You cannot ban yourself');
    await this.users.setBanned(userId, true);
    await this.auth.endAllSessions(userId, 'banned');
  }

  async unban(admin: AuthContext, userId: string): Promise<void> {
    await this.assertAdmin(admin);
    await this.users.setBanned(userId, false);
  }

  /** Operators are the users whose phone is in ADMIN_PHONES; anyone else is FORBIDDEN. */
  private async assertAdmin(caller: AuthContext): Promise<void> {
    const { adminPhones } = this.config.safety;
    const user = adminPhones.size ? await this.users.get(caller.userId) : undefined;
    if (!user || !adminPhones.has(user.phone))
      throw AppError.forbidden('Only operators may do this');
  }
}
