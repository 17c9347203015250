import { Controller, Get, HttpCode, HttpStatus, Logger, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { Db } from '../database/db';
import { RedisConnections } from '../redis/redis.connections';
import { HealthChecks } from './health-checks';
import { LifecycleState } from './lifecycle.state';

/** What a probe learns: up or down, and whether it timed out; never the backend's error text. */
type CheckResult = { status: 'up' | 'down'; error?: 'unavailable' | 'timeout' | 'draining' };

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly db: Db,
    private readonly redis: RedisConnections,
    private readonly lifecycle: LifecycleState,
    private readonly extraChecks: HealthChecks,
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
    const named: Array<[string, () => Promise<void>]> = [['database', () => this.db.ping()]];
    if (this.redis.enabled) named.push(['redis', () => this.redis.ping()]);
    named.push(...this.extraChecks.entries());
    const results = await Promise.all(named.map(([name, fn]) => this.check(name, fn)));
    const checks: Record<string, CheckResult> = {};
    named.forEach(([name], i) => (checks[name] = results[i]));
    const ok = !this.lifecycle.isDraining && Object.values(checks).every((c) => c.status === 'up');
    if (this.lifecycle.isDraining) checks.lifecycle = { status: 'down', error: 'draining' };
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }

  /** The backend's own error goes to the log, where operators look; probes see a word. */
  private async check(
    name: string,
    fn: () => Promise<void>,
    timeoutMs = 2000,
  ): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = Symbol('timeout');
    try {
      const outcome = await Promise.race([
        fn(),
        new Promise<typeof timedOut>((resolve) => {
          timer = setTimeout(() => resolve(timedOut), timeoutMs);
        }),
      ]);
      if (outcome === timedOut) {
        this.logger.warn(`readiness: ${name} did not answer within ${timeoutMs} ms`);
        return { status: 'down', error: 'timeout' };
      }
      return { status: 'up' };
    } catch (error) {
      this.logger.warn(`readiness: ${name} is down: ${(error as Error).message}`);
      return { status: 'down', error: 'unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }
}
