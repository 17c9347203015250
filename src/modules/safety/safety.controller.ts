import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import type { Report } from './domain/report';
import { CreateReportDto, ReportResponseDto, ReportsQueryDto } from './dto/safety.dto';
import { SafetyService } from './safety.service';

function toReportView(r: Report): ReportResponseDto {
  return {
    id: r.id,
    reporterId: r.reporterId,
    userId: r.userId,
    messageId: r.messageId,
    reason: r.reason,
    note: r.note,
    messages: r.messages,
    createdAt: r.createdAt.toISOString(),
  };
}

@ApiTags('safety')
@ApiBearerAuth()
@Controller()
export class SafetyController {
  constructor(private readonly safety: SafetyService) {}

  @Post('reports')
  @HttpCode(201)
  @ApiCreatedResponse({ type: ReportResponseDto })
  async report(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: CreateReportDto,
  ): Promise<ReportResponseDto> {
    return toReportView(await this.safety.report(auth, dto));
  }

  @Get('admin/reports')
  @ApiOkResponse({ type: [ReportResponseDto], description: 'Newest first; operators only' })
  async reports(
    @CurrentAuth() auth: AuthContext,
    @Query() query: ReportsQueryDto,
  ): Promise<ReportResponseDto[]> {
    const reports = await this.safety.listReports(auth, {
      limit: query.limit ?? 50,
      beforeId: query.before,
      userId: query.userId,
    });
    return reports.map(toReportView);
  }

  @Post('admin/users/:id/ban')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Banned: sessions ended, sign-in refused' })
  async ban(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.safety.ban(auth, id);
  }

  @Delete('admin/users/:id/ban')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Unbanned: the user may sign in again' })
  async unban(
    @CurrentAuth() auth: AuthContext,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<void> {
    await this.safety.unban(auth, id);
  }
}
