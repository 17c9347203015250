import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { Db } from '../database/db';
import { RedisConnections } from '../redis/redis.connections';
import { LifecycleState } from './lifecycle.state';

type CheckResult = { status: 'up' | 'down'; error?: string };

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: Db,
    private readonly redis: RedisConnections,
    private readonly lifecycle: LifecycleState,
  ) {}

  @Get('live')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ description: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOkResponse({ description: 'Every configured backend answers' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<{
    status: 'ok' | 'unavailable';
    checks: Record<string, CheckResult>;
  }> {
    const checks: Record<string, CheckResult> = {
      database: await check(() => this.db.ping()),
    };
    if (this.redis.enabled) checks.redis = await check(() => this.redis.ping());
    const ok = !this.lifecycle.isDraining && Object.values(checks).every((c) => c.status === 'up');
    if (this.lifecycle.isDraining) checks.lifecycle = { status: 'down', error: 'draining' };
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}

async function check(fn: () => Promise<void>, timeoutMs = 2000): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
