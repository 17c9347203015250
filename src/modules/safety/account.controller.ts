import { Body, Controller, Delete, Get, HttpCode, Ip, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentAuth, type AuthContext } from '../../common/auth/auth-context';
import { AccountService, type AccountExport } from './account.service';
import { DeleteAccountDto } from './dto/safety.dto';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'The account is gone; needs a code requested after your last sign-in',
  })
  async delete(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: DeleteAccountDto,
    @Ip() clientIp: string,
  ): Promise<void> {
    await this.account.delete(auth, dto.code, clientIp);
  }

  @Get('export')
  @ApiOkResponse({
    description: 'A JSON file of your profile, settings, contacts, groups and devices',
  })
  async export(
    @CurrentAuth() auth: AuthContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AccountExport> {
    res.setHeader('Content-Disposition', 'attachment; filename="parley-export.json"');
    return this.account.export(auth.userId);
  }
}
