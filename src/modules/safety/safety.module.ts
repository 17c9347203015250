import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ChatModule } from '../chat/chat.module';
import { GroupsModule } from '../groups/groups.module';
import { UsersModule } from '../users/users.module';
import { ReportPostgresRepository } from './adapters/postgres/report.postgres.repository';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';
import { ReportRepository } from './ports/report.repository';
import { SafetyController } from './safety.controller';
import { SafetyService } from './safety.service';

@Module({
  imports: [AuthModule, UsersModule, ChatModule, GroupsModule],
  controllers: [SafetyController, AccountController],
  providers: [
    SafetyService,
    AccountService,
    { provide: ReportRepository, useClass: ReportPostgresRepository },
  ],
})
export class SafetyModule {}
