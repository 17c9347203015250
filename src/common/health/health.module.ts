import { Global, Module } from '@nestjs/common';
import { HealthChecks } from './health-checks';
import { HealthController } from './health.controller';
import { LifecycleState } from './lifecycle.state';

@Global()
@Module({
  controllers: [HealthController],
  providers: [LifecycleState, HealthChecks],
  exports: [LifecycleState, HealthChecks],
})
export class HealthModule {}
