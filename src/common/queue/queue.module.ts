import { Global, Module } from '@nestjs/common';
import { PeriodicJobs } from './periodic-jobs';

@Global()
@Module({ providers: [PeriodicJobs], exports: [PeriodicJobs] })
export class QueueModule {}
